# A worker silo with its trial processes (TorchSharp). TORCH_DEVICE=cuda builds the GPU image
# (TorchSharp-cuda-linux; needs the NVIDIA container runtime). Multi-stage, runs as non-root.
ARG TORCH_DEVICE=cpu
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_DEVICE
WORKDIR /src
COPY . .
RUN dotnet publish src/TrialWorker -c Release -p:TorchDevice=${TORCH_DEVICE} -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
# Command trainables written in Python need an interpreter (standard library examples need nothing else).
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data/runs /data/cache && chown -R $APP_UID /data
# The ImageNet ResNet-18 of the ants_bees trainable: the build restored its package with Tuner.Training;
# the worker finds it through NUGET_PACKAGES instead of downloading it on first use.
ENV NUGET_PACKAGES=/opt/nuget
COPY --from=build /root/.nuget/packages/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools /opt/nuget/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools
USER $APP_UID
ENTRYPOINT ["dotnet", "TrialWorker.dll"]
