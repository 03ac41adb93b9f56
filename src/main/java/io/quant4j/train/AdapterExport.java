package io.quant4j.train;

import io.quant4j.peft.AdapterTensor;
import io.quant4j.peft.PeftAdapter;
import io.quant4j.peft.PeftConfig;
import io.quant4j.peft.Projection;
import io.quant4j.peft.RopeRowOrder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trained parameters as a PEFT adapter: LoRA pairs under PEFT's names and the fully trained tensors as
 * modules_to_save, in float, with q/k output rows (lora_B of q_proj/k_proj, full q_proj/k_proj weights) moved
 * to Hugging Face's rotate-half order.
 */
public final class AdapterExport {
    private AdapterExport() {
    }

    /**
     * @param plan      what was trained (its LoRA settings give r, alpha, dropout, targets and layers)
     * @param baseModel base_model_name_or_path
     */
    public static PeftAdapter of(TrainableLlama model, TrainingPlan plan, String baseModel) {
        int headDim = model.config().headDim();
        Map<String, AdapterTensor> tensors = new LinkedHashMap<>();
        List<String> modulesToSave = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            double[] v = p.value();
            if (isRopeOrderedRows(p.name())) {
                v = RopeRowOrder.toHf(v, p.rows(), p.cols(), headDim);
            }
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            tensors.put(p.name(), new AdapterTensor(p.rows(), p.cols(), f));
            if (!p.name().contains(".lora_")) {
                modulesToSave.add(p.name().substring(0, p.name().length() - ".weight".length()));
            }
        }
        LoraSettings lora = plan.lora();
        List<String> targets = new ArrayList<>();
        List<Integer> layers = null;
        if (lora != null) {
            for (Projection p : Projection.values()) {
                if (lora.targets().contains(p)) {
                    targets.add(p.shortName);
                }
            }
            layers = lora.layers() == null ? null : List.copyOf(lora.layers());
        }
        PeftConfig config = new PeftConfig(lora == null ? 8 : lora.rank(), lora == null ? 8 : lora.alpha(),
                lora == null ? 0 : lora.dropout(), targets, null, layers, modulesToSave, baseModel, false);
        return new PeftAdapter(config, tensors);
    }

    /** lora_B of q/k (rows = outputs) and full q/k weights; lora_A's rows are the rank, not outputs. */
    private static boolean isRopeOrderedRows(String name) {
        boolean qk = name.contains(".self_attn.q_proj.") || name.contains(".self_attn.k_proj.");
        return qk && (name.endsWith(".lora_B.weight") || name.endsWith("_proj.weight"));
    }
}
