package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The paths the golden GGUF files cannot check (llama.cpp quantizes them without an imatrix): the imatrix
 * variants and IQ4_NL. The expected SHA-256 digests were made by compiling the llama.cpp functions of the
 * golden files' snapshot (quantize_row_*_impl, quantize_iq4_nl, quantize_row_q8_K_ref) with gcc -O2 for
 * baseline x86-64 and quantizing exactly the rows {@link #rows} generates (StrictMath, so the input is the
 * same on every JVM). Zero rows, constant rows, one-signed, heavy-tailed, half-zero blocks, scales 1e-4..1e2,
 * and importances with 10% zeros are all in there.
 */
class ImatrixReferenceDigestTest {
    static final int ROWS = 16;
    static final int N = 512;

    static float[] rows(long seed) {
        Random r = new Random(seed);
        float[] x = new float[ROWS * N];
        for (int row = 0; row < ROWS; row++) {
            int kind = row % 8;
            double scale = StrictMath.pow(10, r.nextDouble() * 6 - 4);
            for (int i = 0; i < N; i++) {
                double v = switch (kind) {
                    case 0 -> 0;
                    case 1 -> 0.37;
                    case 2 -> r.nextGaussian();
                    case 3 -> r.nextDouble();
                    case 4 -> -r.nextDouble();
                    case 5 -> r.nextGaussian() * StrictMath.exp(2 * r.nextGaussian());
                    case 6 -> i % 32 < 16 ? 0 : r.nextGaussian();
                    default -> Math.round(r.nextGaussian() * 4) / 4.0;
                };
                x[row * N + i] = (float) (v * scale);
            }
        }
        return x;
    }

    static float[] importance(long seed) {
        Random r = new Random(seed ^ 0x5DEECE66DL);
        float[] imp = new float[N];
        for (int i = 0; i < N; i++) {
            imp[i] = r.nextInt(10) == 0 ? 0f : (float) StrictMath.exp(2 * r.nextGaussian());
        }
        return imp;
    }

    static String digest(GgmlType type, long seed, boolean withImportance) throws NoSuchAlgorithmException {
        float[] x = rows(seed);
        byte[] out = new byte[(int) type.byteSize(N) * ROWS];
        RowCodecs.quantizeRows(type, x, ROWS, N, MemorySegment.ofArray(out), withImportance ? importance(seed) : null);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out));
    }

    @ParameterizedTest(name = "{0} imatrix={1} seed={2}")
    @CsvSource({
            "Q4_0, true, 1, b5fa986d5fdd95ea57e4bc2962a562f3c2b4c6ee2fd0b6442bd8b3394d419809",
            "Q4_1, true, 1, 8cc7f02a43b9c0179c4adf99a3061390b30766a52acc47f351c51b82c623eb92",
            "Q5_0, true, 1, 5489ba03fc0548e6660dbc9dbbdf52215646f26eaaf33feb65fc9e4d3b1a9637",
            "Q5_1, true, 1, 2c277851b0ced3f8bd0cc155e25a4c4b349705fbd1ce17147b8edab820a7d4ca",
            "Q2_K, true, 1, b9d247f844406715f31e9eb3753330e6568babb874d5bb630cec073f3ad3831b",
            "Q3_K, true, 1, 2ad819196108c451cdbb52d2cdd8cf6cbc77397d60ec7826d77ddd974e454404",
            "Q4_K, true, 1, 5b88fd751bdcd19000b402bf05cb3f124dbe6167701c1c5e75d6fef001ce5ab2",
            "Q5_K, true, 1, beee87f3ca2e5c51d3ec8019cb50337d0bef89f07ef6bb274197600099e27114",
            "Q6_K, true, 1, 576029ac5784a7ca7b3b985d4b2cac3dbef27d9f17c8c76600b779c3965bef7b",
            "IQ4_NL, true, 1, e1c405365f9f13b2046f2b6fb52ef6dedf03b85fb692d17fec524d44a2a213b6",
            "IQ4_NL, false, 1, 72b8fc9c0b6453440546b891731a217e503c62c46cc92207bf4597f8fbbb22de",
            "Q8_K, false, 1, 9b5a4822412166e2fefedb16c04cd2e9c71dcc56276035ba7910b9b783c34a51",
            "Q4_0, true, 2, 44ea832b26dadac8eb6bf37bf63c20169287ce4cadbf0fafeae6a783c269f26f",
            "Q4_1, true, 2, c0ba195eac558e2af6fff53a3a280bffa77071b8e63990e93d82760aa3200d9d",
            "Q5_0, true, 2, 6acadc9ae789527a041616a0b733a1b4670dab4c7d6562498823ab18466cf6b9",
            "Q5_1, true, 2, 08e89255ec345ccff1bc7cbeeac68945e65c43b0096e1b00228c4a369290a9e6",
            "Q2_K, true, 2, 299465d21ef8175d92de1798b2dd2081b7ffafb2d136f89149f43c4083302d95",
            "Q3_K, true, 2, e32da93b2a25acea8b5e010cae6ca4d606f3caa18bb96a2fb1c0cdb38a51df59",
            "Q4_K, true, 2, 6be0d5434afc92b95139d61274bb55409728bfbdcf4b8d1e154ac9c119f9c0c1",
            "Q5_K, true, 2, 8885fc4848e36fa83903138a5f40d7476daa11343b3d4a76306acfe30e94aca2",
            "Q6_K, true, 2, e3f0486ea0a6a46008c303f80834e245836684f9db994320dc0610256f14c3a6",
            "IQ4_NL, true, 2, e428a405144e77bffa3598cca484ec18fca7a804992216aa18ebf5e92b076b34",
            "IQ4_NL, false, 2, 21a8ad3500e645b8d2337b1b769efd6c3cff38fbe36b5c8e1e1bbeb1e131e88b",
            "Q8_K, false, 2, 687acf292833b1fbd6d802f7cc8fbafea8d5e27d74aa00c7a3ff392dd5e8440a",
            "Q4_0, true, 3, 6e975ee90c27ebd06335a74661e266cc1d1683d2429776667c759a4f113c26be",
            "Q4_1, true, 3, 1e109364e295791193a7e12952547e9a16e0db88b0ac0ea564cdfa8a7ae19356",
            "Q5_0, true, 3, 2ba4d9bb3274b8e5481a7d56fd9d30f5479cfd5fda8f71534d5ffdc3ce7a04d8",
            "Q5_1, true, 3, 5ab106a3e31ed1d2669a42715ee4338e8626fd58048e8f2aebd224e38cae6462",
            "Q2_K, true, 3, ccff38e26bdb1f8472e55de900066f76ab648d912ba6635c655cb6a64b7dbd82",
            "Q3_K, true, 3, 0ac5c6df1210cdf339b9ea7435fd794ae7285e0692b92bc8fc944b7ddb9c6343",
            "Q4_K, true, 3, 3c4a5c0ca70468dcc8230234c3521013e50ed14f69db398e25815a4ba8eee485",
            "Q5_K, true, 3, 8fadf68db720d1d72fe33d623c5bff90cedcd733ea05ee1a029c65c72b2d55d4",
            "Q6_K, true, 3, 1b1c3d041593cc0bccc53679e9e6b2464f533e64e3c87f8388330bbbe75cf56b",
            "IQ4_NL, true, 3, 1c8bbba2d332c511ce0bad2436321d8fb42fa062dc4c7472b9ed7ac782633aca",
            "IQ4_NL, false, 3, 2ec990dee6dde4794fa3b114b4e010c3c7a001f027842acc71924ed6395a53db",
            "Q8_K, false, 3, 00c18d54a28a01fcce842ba60b74ef318b07c53ef08f31e350bb851418ed3991"
    })
    void matchesLlamaCppReference(GgmlType type, boolean withImportance, long seed, String sha256) throws Exception {
        assertThat(digest(type, seed, withImportance)).isEqualTo(sha256);
    }
}
