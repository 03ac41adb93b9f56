package io.quant4j.cli;

import io.quant4j.format.ModelFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** The {@code quant4j} command: one subcommand per job. */
@Command(name = "quant4j", mixinStandardHelpOptions = true, version = "quant4j 0.1.0",
        description = "Shrink, run, measure and fine-tune Llama-family models on the JVM.",
        subcommands = {
                GenerateCommand.class,
                ChatCommand.class,
                TokenizeCommand.class,
                InspectCommand.class,
                QuantizeCommand.class,
                ImatrixCommand.class,
                PerplexityCommand.class,
                ReportCommand.class,
                EvalWorkerCommand.class,
                GptqCommand.class,
                BnbCommand.class,
                ConvertCommand.class,
                FinetuneCommand.class,
                MergeCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this directly). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + userMessage(e));
            if (Boolean.getBoolean("quant4j.debug")) {
                e.printStackTrace(commandLine.getErr());
            }
            return isUserError(e) ? 1 : 70;
        });
        return cli.execute(args);
    }

    /** Errors caused by the user's input (files, options, prompts): a one-line message, no stack trace. */
    static boolean isUserError(Throwable e) {
        return e instanceof ModelFormatException || e instanceof IllegalArgumentException || e instanceof UserException
                || e instanceof UncheckedIOException || e instanceof IllegalStateException;
    }

    static String userMessage(Throwable e) {
        if (isUserError(e)) {
            return e.getMessage();
        }
        return "internal error: " + e + " (run with QUANT4J_JAVA_OPTS=-Dquant4j.debug=true for the stack trace)";
    }
}
