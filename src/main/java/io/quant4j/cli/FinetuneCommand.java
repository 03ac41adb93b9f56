package io.quant4j.cli;

import io.quant4j.tensor.Parallel;
import io.quant4j.train.config.FinetuneConfig;
import io.quant4j.train.job.FinetuneJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code quant4j finetune CONFIG.yml}: LoRA / QLoRA / partial training from an Axolotl-style config. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune from an Axolotl-style YAML config: LoRA/QLoRA on a frozen (quantized) base, or chosen tensors "
                + "in full on top of quantized layers; writes a PEFT adapter, loss curves and checkpoints to output_dir.")
public final class FinetuneCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "YAML config (Axolotl keys, plus quant4j_quantize)")
    Path config;

    @Option(names = "--resume", description = "continue from the latest checkpoint-N in output_dir")
    boolean resume;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (threads != null) {
            if (threads < 1) {
                throw new UserException("--threads must be at least 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        FinetuneConfig c = FinetuneConfig.read(config);
        FinetuneJob.run(c, resume, spec.commandLine().getOut());
        return 0;
    }
}
