using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tuner.Core.Space;

/// <summary>The kinds of value a hyperparameter can take.</summary>
public enum ParamKind
{
    Float,
    Integer,
    String,
    Boolean,
}

/// <summary>One hyperparameter value: a float, an integer, a string or a boolean.</summary>
[JsonConverter(typeof(ParamValueJsonConverter))]
public readonly record struct ParamValue
{
    private readonly double _number;
    private readonly string? _text;

    private ParamValue(ParamKind kind, double number, string? text)
    {
        Kind = kind;
        _number = number;
        _text = text;
    }

    public ParamKind Kind { get; }

    public static ParamValue Float(double value) => new(ParamKind.Float, value, null);

    public static ParamValue Integer(long value) => new(ParamKind.Integer, value, null);

    public static ParamValue String(string value) => new(ParamKind.String, 0, value ?? throw new ArgumentNullException(nameof(value)));

    public static ParamValue Boolean(bool value) => new(ParamKind.Boolean, value ? 1 : 0, null);

    public static implicit operator ParamValue(double value) => Float(value);

    public static implicit operator ParamValue(long value) => Integer(value);

    public static implicit operator ParamValue(int value) => Integer(value);

    public static implicit operator ParamValue(string value) => String(value);

    public static implicit operator ParamValue(bool value) => Boolean(value);

    public double AsDouble() => Kind switch
    {
        ParamKind.Float or ParamKind.Integer => _number,
        ParamKind.Boolean => _number,
        _ => throw new InvalidCastException($"'{_text}' is a string, not a number"),
    };

    public long AsInteger() => Kind switch
    {
        ParamKind.Integer or ParamKind.Boolean => (long)_number,
        ParamKind.Float when Math.Abs(_number - Math.Round(_number)) < 1e-9 => (long)Math.Round(_number),
        ParamKind.Float => throw new InvalidCastException($"{Format(_number)} is not a whole number"),
        _ => throw new InvalidCastException($"'{_text}' is a string, not a number"),
    };

    public string AsString() => Kind == ParamKind.String ? _text! : ToString();

    public bool AsBoolean() => Kind switch
    {
        ParamKind.Boolean => _number != 0,
        _ => throw new InvalidCastException($"{ToString()} is not a boolean"),
    };

    public override string ToString() => Kind switch
    {
        ParamKind.Float => Format(_number),
        ParamKind.Integer => ((long)_number).ToString(CultureInfo.InvariantCulture),
        ParamKind.Boolean => _number != 0 ? "true" : "false",
        _ => _text!,
    };

    /// <summary>A short form for tables: floats with four significant digits.</summary>
    public string ToDisplayString() => Kind == ParamKind.Float ? _number.ToString("G4", CultureInfo.InvariantCulture) : ToString();

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (Kind)
        {
            case ParamKind.Float when Math.Abs(_number) < 1e15 && _number == Math.Floor(_number):
                // Keep whole floats recognisably floats ("3.0", not "3") so they read back as floats.
                writer.WriteRawValue(_number.ToString("0.0", CultureInfo.InvariantCulture));
                break;
            case ParamKind.Float:
                writer.WriteNumberValue(_number);
                break;
            case ParamKind.Integer:
                writer.WriteNumberValue((long)_number);
                break;
            case ParamKind.Boolean:
                writer.WriteBooleanValue(_number != 0);
                break;
            default:
                writer.WriteStringValue(_text);
                break;
        }
    }

    public static ParamValue ReadFrom(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var l) && !HasFraction(ref reader) => Integer(l),
        JsonTokenType.Number => Float(reader.GetDouble()),
        JsonTokenType.String => String(reader.GetString()!),
        JsonTokenType.True => Boolean(true),
        JsonTokenType.False => Boolean(false),
        _ => throw new JsonException($"a parameter value must be a number, string or boolean, not {reader.TokenType}"),
    };

    private static bool HasFraction(ref Utf8JsonReader reader)
    {
        var raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray();
        return Array.IndexOf(raw, (byte)'.') >= 0 || Array.IndexOf(raw, (byte)'e') >= 0 || Array.IndexOf(raw, (byte)'E') >= 0;
    }
}

internal sealed class ParamValueJsonConverter : JsonConverter<ParamValue>
{
    public override ParamValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ParamValue.ReadFrom(ref reader);

    public override void Write(Utf8JsonWriter writer, ParamValue value, JsonSerializerOptions options) => value.WriteTo(writer);
}
