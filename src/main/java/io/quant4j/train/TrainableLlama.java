package io.quant4j.train;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.peft.Projection;
import io.quant4j.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The Llama network as a trainable function of a whole token sequence: the same computation as
 * {@code io.quant4j.model.Llama} (causal, all positions at once, in double), with a backward pass from
 * next-token cross-entropy to every trained parameter. Frozen weights stay in their stored type and are read
 * through {@link WeightMatrix}; trained tensors are double copies of just those tensors; LoRA adapters wrap
 * frozen projections. The backward pass stops at the lowest layer holding a trained parameter.
 */
public final class TrainableLlama {
    private final LlamaConfig config;
    private final WeightMatrix frozenEmbedding;
    private final Parameter embedding;
    private final List<DecoderBlock> blocks;
    private final NormWeight finalNorm;
    private final Linear head;
    private final Rope rope;
    private final int lowestTrainedLayer;
    private java.util.IdentityHashMap<int[], double[]> prefixCache;
    private long prefixCacheBudget;

    /** Summed negative log-likelihood over {@code count} predicted tokens. */
    public record LossSum(double nll, int count) {
        public LossSum plus(LossSum o) {
            return new LossSum(nll + o.nll, count + o.count);
        }

        public double mean() {
            return count == 0 ? Double.NaN : nll / count;
        }
    }

    private TrainableLlama(LlamaConfig config, WeightMatrix frozenEmbedding, Parameter embedding, List<DecoderBlock> blocks,
                           NormWeight finalNorm, Linear head) {
        this.config = config;
        this.frozenEmbedding = frozenEmbedding;
        this.embedding = embedding;
        this.blocks = List.copyOf(blocks);
        this.finalNorm = finalNorm;
        this.head = head;
        this.rope = new Rope(config);
        int lowest = embedding != null ? 0 : blocks.size();
        for (int l = blocks.size() - 1; l >= 0; l--) {
            if (!blocks.get(l).parameters().isEmpty()) {
                lowest = Math.min(lowest, l);
            }
        }
        this.lowestTrainedLayer = lowest;
    }

    /**
     * Wraps base weights for training: tensors named in the plan become double copies, LoRA targets get
     * adapters initialized from {@code seed} (A uniform ±1/√in, B zero), everything else stays frozen.
     */
    /** The network with nothing trained: a teacher for distillation, or a reference. */
    public static TrainableLlama frozen(LlamaConfig c, LlamaWeights w) {
        return build(c, w, new TrainingPlan(null, java.util.Set.of(), true), 0);
    }

    public static TrainableLlama build(LlamaConfig c, LlamaWeights w, TrainingPlan plan, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Parameter embedding = plan.trainsFully("model.embed_tokens.weight")
                ? copyOf("model.embed_tokens.weight", w.tokenEmbedding()) : null;
        List<DecoderBlock> blocks = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer layer = w.layers().get(l);
            String p = "model.layers." + l + ".";
            Map<Projection, Linear> linears = new LinkedHashMap<>();
            for (Projection proj : Projection.values()) {
                linears.put(proj, linear(plan, l, proj, proj.of(layer), random));
            }
            blocks.add(new DecoderBlock(c,
                    norm(plan, p + "input_layernorm.weight", layer.attnNorm()),
                    linears.get(Projection.Q_PROJ), linears.get(Projection.K_PROJ), linears.get(Projection.V_PROJ),
                    linears.get(Projection.O_PROJ),
                    norm(plan, p + "post_attention_layernorm.weight", layer.ffnNorm()),
                    linears.get(Projection.GATE_PROJ), linears.get(Projection.UP_PROJ), linears.get(Projection.DOWN_PROJ)));
        }
        Linear head = plan.trainsFully("lm_head.weight")
                ? new DenseLinear(copyOf("lm_head.weight", w.output())) : new FrozenLinear(w.output());
        return new TrainableLlama(c, w.tokenEmbedding(), embedding, blocks,
                norm(plan, "model.norm.weight", w.outputNorm()), head);
    }

    private static Linear linear(TrainingPlan plan, int layer, Projection p, WeightMatrix m, RandomGenerator random) {
        String name = p.moduleName(layer);
        if (plan.trainsFully(name + ".weight")) {
            return new DenseLinear(copyOf(name + ".weight", m));
        }
        LoraSettings lora = plan.lora();
        if (lora != null && lora.adapts(layer, p)) {
            Parameter a = Parameter.matrix(name + ".lora_A.weight", lora.rank(), m.cols());
            Parameter b = Parameter.matrix(name + ".lora_B.weight", m.rows(), lora.rank());
            LoraLinear.initialize(a, b, random);
            return new LoraLinear(new FrozenLinear(m), a, b, lora.scale(), lora.dropout());
        }
        return new FrozenLinear(m);
    }

    private static NormWeight norm(TrainingPlan plan, String name, float[] w) {
        return plan.trainsFully(name) ? NormWeight.trained(name, w) : NormWeight.frozen(w);
    }

    /** A double copy of a stored matrix, made one row at a time. */
    static Parameter copyOf(String name, WeightMatrix m) {
        Parameter p = Parameter.matrix(name, m.rows(), m.cols());
        float[] row = new float[m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.dequantizeRow(r, row, 0);
            for (int j = 0; j < row.length; j++) {
                p.value()[r * row.length + j] = row[j];
            }
        }
        return p;
    }

    public LlamaConfig config() {
        return config;
    }

    /**
     * Keeps, per token array (by identity), the hidden state entering the lowest trained layer, up to
     * {@code maxBytes} in all. Everything below that layer is frozen and has no dropout, so the state never changes:
     * when only the last layers are trained, later epochs and evaluations skip the frozen layers. Returns whether
     * the cache applies (it does not when the embedding or the first layer is trained).
     */
    public boolean cacheFrozenPrefix(long maxBytes) {
        if (lowestTrainedLayer == 0 || embedding != null) {
            return false;
        }
        prefixCache = new java.util.IdentityHashMap<>();
        prefixCacheBudget = maxBytes;
        return true;
    }

    public int lowestTrainedLayer() {
        return lowestTrainedLayer;
    }

    /** Every trained tensor, in a fixed order (embedding, layers bottom-up, final norm, head). */
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        if (embedding != null) {
            out.add(embedding);
        }
        for (DecoderBlock b : blocks) {
            out.addAll(b.parameters());
        }
        if (finalNorm.parameter() != null) {
            out.add(finalNorm.parameter());
        }
        out.addAll(head.parameters());
        return out;
    }

    /** The linear maps of layer {@code l}, in {@link Projection} order. */
    public List<Linear> linears(int l) {
        return blocks.get(l).linears();
    }

    public Linear head() {
        return head;
    }

    public void zeroGradients() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** The activations of one sequence kept for the backward pass. */
    private record Forward(int rows, double[][] ropeTables, DecoderBlock.Trace[] traces, double[] last, double[] normed,
                           double[] invRms, Linear.Saved headSaved, double[] logits) {
    }

    private Forward forward(int[] tokens, RandomGenerator dropout, boolean keep) {
        int rows = tokens.length;
        int dim = config.dim();
        if (rows == 0 || rows > config.contextLength()) {
            throw new IllegalArgumentException("sequence of " + rows + " tokens (the model takes 1.." + config.contextLength() + ")");
        }
        double[][] tables = rope.tables(rows);
        DecoderBlock.Trace[] traces = new DecoderBlock.Trace[blocks.size()];
        double[] cached = prefixCache == null ? null : prefixCache.get(tokens);
        double[] x = cached != null ? cached.clone() : embed(tokens, rows, dim);
        for (int l = cached != null ? lowestTrainedLayer : 0; l <= blocks.size(); l++) {
            if (prefixCache != null && cached == null && l == lowestTrainedLayer && prefixCacheBudget >= 8L * x.length) {
                prefixCache.put(tokens, x.clone());
                prefixCacheBudget -= 8L * x.length;
            }
            if (l == blocks.size()) {
                break;
            }
            DecoderBlock.Trace t = blocks.get(l).forward(x, rows, rope, tables, dropout);
            if (keep && l >= lowestTrainedLayer) {
                traces[l] = t;
            }
        }
        double[] normed = new double[rows * dim];
        double[] inv = new double[rows];
        RmsNorm.forward(x, finalNorm.values(), rows, dim, config.rmsNormEps(), normed, inv);
        double[] logits = new double[rows * config.vocabSize()];
        Linear.Saved headSaved = head.forward(normed, rows, logits, dropout);
        return new Forward(rows, tables, traces, x, normed, inv, headSaved, logits);
    }

    private double[] embed(int[] tokens, int rows, int dim) {
        double[] x = new double[rows * dim];
        float[] row = new float[dim];
        for (int t = 0; t < rows; t++) {
            int token = tokens[t];
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (config.vocabSize() - 1) + ")");
            }
            if (embedding != null) {
                System.arraycopy(embedding.value(), token * dim, x, t * dim, dim);
            } else {
                frozenEmbedding.dequantizeRow(token, row, 0);
                for (int i = 0; i < dim; i++) {
                    x[t * dim + i] = row[i];
                }
            }
        }
        return x;
    }

    /** Logits [tokens.length × vocab] without dropout. */
    public double[] logits(int[] tokens) {
        return forward(tokens, null, false).logits();
    }

    /**
     * Next-token loss without gradients: position t predicts tokens[t+1] where {@code targets[t+1]}.
     */
    public LossSum loss(int[] tokens, boolean[] targets) {
        Forward f = forward(tokens, null, false);
        return crossEntropy(tokens, targets, f.logits(), 0, null);
    }

    /**
     * Forward and backward for one sequence: adds {@code weight} × the gradient of the summed next-token loss to
     * every trained parameter and returns the (unweighted) loss sum.
     */
    public LossSum lossAndGradients(int[] tokens, boolean[] targets, double weight, RandomGenerator dropout) {
        return lossAndGradients(tokens, targets, weight, dropout, null);
    }

    /**
     * As above; with {@code teacherLogits} ([tokens × vocab], e.g. the unquantized model's) the loss at each target
     * position is the cross-entropy against the teacher's whole distribution instead of the next token alone.
     */
    public LossSum lossAndGradients(int[] tokens, boolean[] targets, double weight, RandomGenerator dropout, double[] teacherLogits) {
        Forward f = forward(tokens, dropout, true);
        int rows = f.rows();
        int dim = config.dim();
        double[] dLogits = new double[f.logits().length];
        LossSum loss = teacherLogits == null ? crossEntropy(tokens, targets, f.logits(), weight, dLogits)
                : distillation(tokens, targets, f.logits(), teacherLogits, weight, dLogits);
        boolean belowHead = lowestTrainedLayer < blocks.size() || finalNorm.parameter() != null;
        double[] dNormed = belowHead ? new double[rows * dim] : null;
        head.backward(f.headSaved(), f.normed(), dLogits, rows, dNormed);
        if (!belowHead) {
            return loss;
        }
        double[] dx = lowestTrainedLayer < blocks.size() ? new double[rows * dim] : null;
        RmsNorm.backward(f.last(), finalNorm.values(), f.invRms(), dNormed, rows, dim, dx, finalNorm.gradient());
        for (int l = blocks.size() - 1; l >= lowestTrainedLayer; l--) {
            boolean needInput = l > lowestTrainedLayer || embedding != null;
            blocks.get(l).backward(f.traces()[l], dx, rows, rope, f.ropeTables(), needInput);
        }
        if (embedding != null) {
            double[] g = embedding.grad();
            for (int t = 0; t < rows; t++) {
                DoubleKernels.axpy(1, dx, t * dim, g, tokens[t] * dim, dim);
            }
        }
        return loss;
    }

    private LossSum distillation(int[] tokens, boolean[] targets, double[] logits, double[] teacher, double weight, double[] dLogits) {
        int vocab = config.vocabSize();
        if (teacher.length != logits.length) {
            throw new IllegalArgumentException("teacher logits of " + teacher.length + " values for " + logits.length);
        }
        double loss = 0;
        int count = 0;
        for (int t = 0; t + 1 < tokens.length; t++) {
            if (targets[t + 1]) {
                loss += CrossEntropy.softTargetLossAndGradient(logits, t * vocab, vocab, teacher, t * vocab, weight, dLogits);
                count++;
            }
        }
        return new LossSum(loss, count);
    }

    private LossSum crossEntropy(int[] tokens, boolean[] targets, double[] logits, double weight, double[] dLogits) {
        int vocab = config.vocabSize();
        double nll = 0;
        int count = 0;
        for (int t = 0; t + 1 < tokens.length; t++) {
            if (targets[t + 1]) {
                nll += CrossEntropy.lossAndGradient(logits, t * vocab, vocab, tokens[t + 1], weight, dLogits);
                count++;
            }
        }
        return new LossSum(nll, count);
    }
}
