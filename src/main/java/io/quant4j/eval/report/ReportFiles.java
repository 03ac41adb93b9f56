package io.quant4j.eval.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes report.md, report.csv, report.json and report.svg into the output directory. */
public final class ReportFiles {
    public static final List<String> NAMES = List.of("report.md", "report.csv", "report.json", "report.svg");

    private ReportFiles() {
    }

    public static List<Path> write(QuantizationReport report, Path dir) {
        List<String> contents = List.of(ReportMarkdown.render(report), ReportCsv.render(report), ReportJson.report(report),
                ReportSvg.render(report));
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < NAMES.size(); i++) {
                Files.writeString(dir.resolve(NAMES.get(i)), contents.get(i), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write the report: " + e.getMessage(), e);
        }
        return NAMES.stream().map(dir::resolve).toList();
    }
}
