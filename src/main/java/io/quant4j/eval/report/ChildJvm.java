package io.quant4j.eval.report;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Starts {@code io.quant4j.cli.Main} in a fresh JVM with this JVM's java binary, classpath and options, so each
 * model's evaluation gets its own process and its own peak resident memory. The child's output (stdout and stderr
 * merged) goes line by line to a sink.
 */
public final class ChildJvm {
    private static final String MAIN_CLASS = "io.quant4j.cli.Main";

    /** How the child ended; {@code lastError} is its last {@code error: ...} line without the prefix, or null. */
    public record Outcome(int exitCode, String lastError) {
    }

    private ChildJvm() {
    }

    public static Outcome run(List<String> mainArgs, Consumer<String> lines) {
        ProcessBuilder pb = new ProcessBuilder(command(mainArgs)).redirectErrorStream(true);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            String lastError = null;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("error: ")) {
                        lastError = line.substring("error: ".length());
                    }
                    lines.accept(line);
                }
            }
            return new Outcome(p.waitFor(), lastError);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a child JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while a child JVM was running");
        }
    }

    static List<String> command(List<String> mainArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        boolean vectorModule = false;
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // a debugger agent would make the child wait for a debugger on the same port
            if (a.startsWith("-agentlib:jdwp") || a.startsWith("-Xrunjdwp")) {
                continue;
            }
            vectorModule |= a.contains("jdk.incubator.vector") && a.contains("add-modules") || a.contains("jdk.module.addmods");
            cmd.add(a);
        }
        if (!vectorModule && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            cmd.add("--add-modules=jdk.incubator.vector");
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MAIN_CLASS);
        cmd.addAll(mainArgs);
        return cmd;
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
