package io.quant4j.quantize.gptq;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.ModelWeights;
import io.quant4j.model.RopeRowOrder;
import io.quant4j.tensor.gptq.GptqLayer;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * The layer-by-layer driver (gptq/llama.py llama_sequential). The calibration windows are embedded, then each block
 * in turn is dequantized to float, its projections quantized, and the windows run through the quantized block to
 * become the next block's inputs — so block i is calibrated on what the already-quantized blocks before it produce.
 * With true-sequential, the inputs of each group [k,v,q] → [o] → [up,gate] → [down] are collected after the groups
 * before it are quantized, by running the block only as far as that group; what those passes compute from final
 * projections is kept for the next ({@link WindowCache}, within a quarter of the heap). Memory: one block in float,
 * the calibration activations (nsamples × seqlen × dim floats, plus the caches) and one Hessian per group.
 *
 * <p>RTN needs no calibration: each projection is rounded on its own.
 */
public final class GptqQuantizer {
    /** Progress, and each quantized projection (rows in quant4j's order) for callers that want the values. */
    public interface Listener {
        default void moduleDone(int layer, Projection p, QuantizedLinear quantized, double loss, long nanos) {
        }

        default void layerDone(int layer, long nanos) {
        }
    }

    /** The packed layers, [layer][projection ordinal], rows in Hugging Face order; null where kept in float. */
    public record Result(LlamaConfig config, GptqOptions options, boolean v1, GptqLayer[][] layers) {
        public GptqLayer layer(int layer, Projection p) {
            return layers[layer][p.ordinal()];
        }

        public boolean quantized(int layer, Projection p) {
            return layer(layer, p) != null;
        }
    }

    private GptqQuantizer() {
    }

    /**
     * Quantizes the projections {@code select} accepts. {@code calibration} may be null for RTN. Packed tensors live in
     * {@code arena}.
     */
    public static Result quantize(ModelWeights source, CalibrationSet calibration, GptqOptions o, boolean v1,
                                  BiPredicate<Integer, Projection> select, Arena arena, Listener listener) {
        return quantize(source, calibration, o, v1, select, arena, listener, Runtime.getRuntime().maxMemory() / 4);
    }

    /** The same, keeping at most {@code cacheBytes} of per-window intermediates between passes ({@link WindowCache}). */
    static Result quantize(ModelWeights source, CalibrationSet calibration, GptqOptions o, boolean v1,
                           BiPredicate<Integer, Projection> select, Arena arena, Listener listener, long cacheBytes) {
        LlamaConfig c = source.config();
        LlamaWeights weights = source.weights();
        boolean gptq = o.method() == GptqOptions.Method.GPTQ;
        if (gptq && calibration == null) {
            throw new IllegalArgumentException("GPTQ needs calibration data");
        }
        GptqLayer[][] out = new GptqLayer[c.nLayers()][Projection.values().length];
        float[][] hidden = gptq ? embed(weights, calibration, c.dim()) : null;
        int tokens = gptq ? calibration.seqlen() : 0;
        BlockForward forward = new BlockForward(c);
        int lastSelected = -1;
        for (int l = 0; l < c.nLayers(); l++) {
            for (Projection p : Projection.values()) {
                if (select.test(l, p)) {
                    lastSelected = l;
                }
            }
        }
        for (int l = 0; l < c.nLayers(); l++) {
            long start = System.nanoTime();
            List<Projection> chosen = new ArrayList<>();
            for (Projection p : Projection.values()) {
                if (select.test(l, p)) {
                    chosen.add(p);
                }
            }
            // Calibration activations only matter up to the last layer that quantizes something.
            boolean last = l >= lastSelected;
            if (chosen.isEmpty() && (!gptq || last)) {
                listener.layerDone(l, System.nanoTime() - start);
                continue;
            }
            FloatLayer layer = FloatLayer.of(weights.layers().get(l), c);
            final int li = l;
            if (!gptq) {
                for (Projection p : chosen) {
                    long t0 = System.nanoTime();
                    QuantizedLinear q = GptqSolver.rtn(layer.weight(p), p.outFeatures(c), p.inFeatures(c), o);
                    store(out, li, p, q, c, v1, arena);
                    listener.moduleDone(li, p, q, 0, System.nanoTime() - t0);
                }
            } else if (o.trueSequential()) {
                WindowCache[] caches = WindowCache.plan(hidden.length, tokens, c.qDim(), c.dim(), c.hiddenDim(), cacheBytes);
                for (int stage = 0; stage < Projection.STAGES; stage++) {
                    List<Projection> group = new ArrayList<>();
                    for (Projection p : chosen) {
                        if (p.stage == stage) {
                            group.add(p);
                        }
                    }
                    if (!group.isEmpty()) {
                        Hessian h = collect(forward, layer, hidden, tokens, stage, group.getFirst().inFeatures(c), caches);
                        solve(out, li, group, h, layer, c, o, v1, arena, listener);
                    }
                }
                if (!last) {
                    for (int w = 0; w < hidden.length; w++) {
                        hidden[w] = forward.run(layer, hidden[w], tokens, Projection.STAGES, (s, x, t, n) -> { }, caches[w],
                                Projection.STAGES);
                        caches[w] = null;
                    }
                }
                listener.layerDone(l, System.nanoTime() - start);
                continue;
            } else {
                List<Integer> stages = chosen.stream().map(p -> p.stage).distinct().toList();
                Map<Integer, Hessian> hs = new java.util.HashMap<>();
                if (!stages.isEmpty()) {
                    hs = collectAll(forward, layer, hidden, tokens, stages, c);
                }
                for (int stage : stages) {
                    List<Projection> group = chosen.stream().filter(p -> p.stage == stage).toList();
                    solve(out, li, group, hs.get(stage), layer, c, o, v1, arena, listener);
                }
            }
            if (gptq && !last) {
                for (int w = 0; w < hidden.length; w++) {
                    hidden[w] = forward.run(layer, hidden[w], tokens, Projection.STAGES, (s, x, t, n) -> { });
                }
            }
            listener.layerDone(l, System.nanoTime() - start);
        }
        return new Result(c, o, v1, out);
    }

    private static float[][] embed(LlamaWeights w, CalibrationSet calibration, int dim) {
        float[][] hidden = new float[calibration.nsamples()][];
        for (int i = 0; i < hidden.length; i++) {
            int[] window = calibration.windows()[i];
            float[] x = new float[window.length * dim];
            for (int t = 0; t < window.length; t++) {
                w.tokenEmbedding().dequantizeRow(window[t], x, t * dim);
            }
            hidden[i] = x;
        }
        return hidden;
    }

    /**
     * Stage {@code stage}'s Hessian over all windows; the stages before it are final, so the passes fill and reuse
     * the windows' caches.
     */
    private static Hessian collect(BlockForward forward, FloatLayer layer, float[][] hidden, int tokens, int stage, int width,
                                   WindowCache[] caches) {
        Hessian h = new Hessian(width);
        for (int w = 0; w < hidden.length; w++) {
            forward.run(layer, hidden[w], tokens, stage, (s, in, t, n) -> {
                if (s == stage) {
                    h.add(in, t);
                }
            }, caches[w], stage);
        }
        return h;
    }

    /** One pass capturing every listed stage's inputs (true-sequential off: all from the unquantized block). */
    private static Map<Integer, Hessian> collectAll(BlockForward forward, FloatLayer layer, float[][] hidden, int tokens,
                                                    List<Integer> stages, LlamaConfig c) {
        Map<Integer, Hessian> hs = new java.util.HashMap<>();
        for (Projection p : Projection.values()) {
            if (stages.contains(p.stage)) {
                hs.putIfAbsent(p.stage, new Hessian(p.inFeatures(c)));
            }
        }
        int lastStage = stages.stream().mapToInt(Integer::intValue).max().orElseThrow();
        for (float[] x : hidden) {
            forward.run(layer, x, tokens, lastStage, (s, in, t, n) -> {
                Hessian h = hs.get(s);
                if (h != null) {
                    h.add(in, t);
                }
            });
        }
        return hs;
    }

    private static void solve(GptqLayer[][] out, int l, List<Projection> group, Hessian hessian, FloatLayer layer,
                              LlamaConfig c, GptqOptions o, boolean v1, Arena arena, Listener listener) {
        long t = System.nanoTime();
        GptqSolver.Prepared prepared = GptqSolver.prepare(hessian.finish(), hessian.size(), o);
        long shared = (System.nanoTime() - t) / group.size();
        for (Projection p : group) {
            long t0 = System.nanoTime() - shared;
            GptqSolver.Solution s = GptqSolver.gptq(layer.weight(p).clone(), p.outFeatures(c), p.inFeatures(c), prepared, o);
            store(out, l, p, s.layer(), c, v1, arena);
            layer.replace(p, s.layer().dequantize());
            listener.moduleDone(l, p, s.layer(), s.loss(), System.nanoTime() - t0);
        }
    }

    private static void store(GptqLayer[][] out, int l, Projection p, QuantizedLinear q, LlamaConfig c, boolean v1, Arena arena) {
        QuantizedLinear hfOrder = p.ropePermuted() ? q.permuteRows(RopeRowOrder.ggufRowOfHfRow(p.heads(c), c.headDim())) : q;
        out[l][p.ordinal()] = GptqPacker.pack(hfOrder, v1, arena);
    }

}
