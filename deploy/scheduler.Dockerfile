# The scheduler silo: the control plane's grains and the tuner.v1 API. Multi-stage, runs as non-root.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Scheduler.Silo -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Results and checkpoints live on a volume shared with the workers.
RUN mkdir -p /data/runs && chown -R $APP_UID /data
USER $APP_UID
EXPOSE 11111 30000 5443
ENTRYPOINT ["dotnet", "Scheduler.Silo.dll"]
