package io.quant4j.quantize;

import io.quant4j.tensor.GgmlType;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * llama.cpp's file types (llama_ftype): the name given to {@code quantize}, the id written to
 * {@code general.file_type}, and the base tensor type the mix rules start from.
 */
public enum FileType {
    F32(0, GgmlType.F32),
    F16(1, GgmlType.F16),
    Q4_0(2, GgmlType.Q4_0),
    Q4_1(3, GgmlType.Q4_1),
    Q8_0(7, GgmlType.Q8_0),
    Q5_0(8, GgmlType.Q5_0),
    Q5_1(9, GgmlType.Q5_1),
    Q2_K(10, GgmlType.Q2_K),
    Q3_K_S(11, GgmlType.Q3_K),
    Q3_K_M(12, GgmlType.Q3_K),
    Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_S(14, GgmlType.Q4_K),
    Q4_K_M(15, GgmlType.Q4_K),
    Q5_K_S(16, GgmlType.Q5_K),
    Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K),
    IQ4_NL(25, GgmlType.IQ4_NL),
    BF16(32, GgmlType.BF16);

    public final int id;
    public final GgmlType baseType;

    FileType(int id, GgmlType baseType) {
        this.id = id;
        this.baseType = baseType;
    }

    /** Parses a name as llama-quantize accepts it (case-insensitive; Q4_K and Q5_K mean the _M mixes, Q3_K means Q3_K_M). */
    public static FileType parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        switch (n) {
            case "Q3_K":
                return Q3_K_M;
            case "Q4_K":
                return Q4_K_M;
            case "Q5_K":
                return Q5_K_M;
            default:
                break;
        }
        for (FileType t : values()) {
            if (t.name().equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown file type '" + name + "'; known: "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(" ")));
    }

    public static FileType fromId(long id) {
        for (FileType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
