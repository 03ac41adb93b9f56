package io.quant4j.eval.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * {@code report.svg}: perplexity against file size, one labelled point per measured row, the Pareto front drawn as
 * a line through its points. Hand-written SVG 1.1 (no fonts or scripts beyond generic sans-serif), axes with
 * "nice" ticks (1, 2, 5 × 10^k), labels nudged apart so they do not overlap each other or the points.
 */
public final class ReportSvg {
    private static final int WIDTH = 820;
    private static final int HEIGHT = 540;
    private static final int LEFT = 90;
    private static final int RIGHT = WIDTH - 30;
    private static final int TOP = 70;
    private static final int BOTTOM = HEIGHT - 90;
    private static final String FRONT_COLOUR = "#d95f02";
    private static final String OTHER_COLOUR = "#7570b3";
    private static final double CHAR_WIDTH = 7.2; // average advance of 12 px sans-serif, for label boxes
    private static final int LABEL_HEIGHT = 14;

    private ReportSvg() {
    }

    private record Point(String label, double x, double y, boolean base, boolean front) {
    }

    private record Box(double x0, double y0, double x1, double y1) {
        boolean overlaps(Box o) {
            return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1;
        }

        /** Whether the segment (ax, ay)-(bx, by) passes through this box (Liang-Barsky clipping). */
        boolean crosses(double ax, double ay, double bx, double by) {
            double t0 = 0;
            double t1 = 1;
            double dx = bx - ax;
            double dy = by - ay;
            double[] p = {-dx, dx, -dy, dy};
            double[] q = {ax - x0, x1 - ax, ay - y0, y1 - ay};
            for (int i = 0; i < 4; i++) {
                if (p[i] == 0) {
                    if (q[i] < 0) {
                        return false;
                    }
                } else {
                    double t = q[i] / p[i];
                    if (p[i] < 0) {
                        t0 = Math.max(t0, t);
                    } else {
                        t1 = Math.min(t1, t);
                    }
                }
            }
            return t0 <= t1;
        }
    }

    /** Axis ticks covering [lo, hi] with about {@code target} steps; the axis runs from the first to the last tick. */
    record Ticks(double first, double last, double step, int decimals) {
        static Ticks of(double lo, double hi, int target) {
            if (!(hi > lo)) {
                double pad = Math.abs(lo) * 0.01 + 1e-9;
                lo -= pad;
                hi += pad;
            }
            double raw = (hi - lo) / target;
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double f = raw / magnitude;
            double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
            double first = Math.floor(lo / step + 1e-9) * step;
            double last = Math.ceil(hi / step - 1e-9) * step;
            int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
            return new Ticks(first, last, step, decimals);
        }

        List<Double> values() {
            List<Double> v = new ArrayList<>();
            int n = (int) Math.round((last - first) / step);
            for (int i = 0; i <= n; i++) {
                v.add(first + i * step);
            }
            return v;
        }

        String label(double v) {
            return String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < step * 1e-6 ? 0.0 : v);
        }
    }

    public static String render(QuantizationReport report) {
        SizeUnit unit = ReportMarkdown.sizeUnit(report);
        List<ReportRow> front = ParetoFront.of(report.rows());
        List<Point> points = new ArrayList<>();
        for (ReportRow r : report.rows()) {
            if (r.ok()) {
                points.add(new Point(r.base() ? r.type() + " (base)" : r.type(), unit.of(r.measurement().footprint().fileBytes()),
                        r.measurement().ppl(), r.base(), front.contains(r)));
            }
        }
        double maxX = points.stream().mapToDouble(Point::x).max().orElse(1);
        double minY = points.stream().mapToDouble(Point::y).min().orElse(0);
        double maxY = points.stream().mapToDouble(Point::y).max().orElse(1);
        double padY = (maxY - minY) * 0.08;
        Ticks xt = Ticks.of(0, maxX * 1.05, 8);
        Ticks yt = Ticks.of(minY - padY, maxY + padY, 7);

        StringBuilder s = new StringBuilder();
        s.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        s.append(f("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        s.append(f("<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        ReportSettings st = report.settings();
        s.append(f("<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">Perplexity vs size: %s</text>%n",
                WIDTH / 2, xml(ReportMarkdown.fileName(st.model().toString()))));
        s.append(f("<text x=\"%d\" y=\"48\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555555\">llama.cpp perplexity protocol, "
                        + "-c %d, %d tokens of %s scored; lower left is better</text>%n", WIDTH / 2, st.ctx(),
                report.base().measurement().scoredTokens(), xml(ReportMarkdown.fileName(st.text().toString()))));

        // grid, ticks and tick labels
        s.append("<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n");
        for (double v : xt.values()) {
            s.append(f("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>%n", sx(v, xt), TOP, sx(v, xt), BOTTOM));
        }
        for (double v : yt.values()) {
            s.append(f("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>%n", LEFT, sy(v, yt), RIGHT, sy(v, yt)));
        }
        s.append("</g>\n");
        s.append(f("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>%n",
                LEFT, TOP, RIGHT - LEFT, BOTTOM - TOP));
        s.append("<g font-size=\"12\" fill=\"#333333\">\n");
        for (double v : xt.values()) {
            s.append(f("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333333\"/>%n", sx(v, xt), BOTTOM, sx(v, xt), BOTTOM + 5));
            s.append(f("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", sx(v, xt), BOTTOM + 19, xt.label(v)));
        }
        for (double v : yt.values()) {
            s.append(f("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333333\"/>%n", LEFT - 5, sy(v, yt), LEFT, sy(v, yt)));
            s.append(f("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT - 8, sy(v, yt) + 4, yt.label(v)));
        }
        s.append("</g>\n");
        s.append(f("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">file size (%s)</text>%n",
                (LEFT + RIGHT) / 2, BOTTOM + 42, unit.symbol));
        s.append(f("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 %d %d)\">perplexity</text>%n",
                24, (TOP + BOTTOM) / 2, 24, (TOP + BOTTOM) / 2));

        // the Pareto front, then the points over it
        List<Point> frontPoints = points.stream().filter(Point::front).sorted((a, b) -> Double.compare(a.x, b.x)).toList();
        if (frontPoints.size() > 1) {
            s.append(f("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"%s\"/>%n", FRONT_COLOUR,
                    frontPoints.stream().map(p -> f("%.1f,%.1f", sx(p.x, xt), sy(p.y, yt))).collect(Collectors.joining(" "))));
        }
        List<Box> taken = new ArrayList<>();
        for (Point p : points) {
            taken.add(new Box(sx(p.x, xt) - 6, sy(p.y, yt) - 6, sx(p.x, xt) + 6, sy(p.y, yt) + 6));
        }
        for (Point p : points) {
            double x = sx(p.x, xt);
            double y = sy(p.y, yt);
            String colour = p.front ? FRONT_COLOUR : OTHER_COLOUR;
            if (p.base) {
                s.append(f("<rect x=\"%.1f\" y=\"%.1f\" width=\"11\" height=\"11\" fill=\"%s\" stroke=\"black\" stroke-width=\"1.2\"/>%n",
                        x - 5.5, y - 5.5, colour));
            } else {
                s.append(f("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\" stroke=\"white\" stroke-width=\"1\"/>%n", x, y, colour));
            }
        }
        s.append("<g font-size=\"12\" fill=\"#222222\">\n");
        List<double[]> segments = new ArrayList<>();
        for (int i = 1; i < frontPoints.size(); i++) {
            Point a = frontPoints.get(i - 1);
            Point c = frontPoints.get(i);
            segments.add(new double[] {sx(a.x, xt), sy(a.y, yt), sx(c.x, xt), sy(c.y, yt)});
        }
        for (Point p : points) {
            String text = f("%s  %.3f", p.label, p.y);
            Box box = placeLabel(sx(p.x, xt), sy(p.y, yt), text, taken, segments);
            taken.add(box);
            s.append(f("<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", box.x0, box.y1 - 3, xml(text)));
        }
        s.append("</g>\n");

        // legend, top right inside the plot
        int lx = RIGHT - 300;
        int ly = TOP + 12;
        s.append(f("<g font-size=\"12\"><rect x=\"%d\" y=\"%d\" width=\"290\" height=\"62\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>%n", lx, ly - 4));
        s.append(f("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"/>", lx + 8, ly + 10, lx + 30, ly + 10, FRONT_COLOUR));
        s.append(f("<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>", lx + 19, ly + 10, FRONT_COLOUR));
        s.append(f("<text x=\"%d\" y=\"%d\">Pareto front (nothing smaller and better)</text>%n", lx + 38, ly + 14));
        s.append(f("<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>", lx + 19, ly + 28, OTHER_COLOUR));
        s.append(f("<text x=\"%d\" y=\"%d\">dominated</text>%n", lx + 38, ly + 32));
        s.append(f("<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"white\" stroke=\"black\"/>", lx + 14, ly + 41));
        s.append(f("<text x=\"%d\" y=\"%d\">unquantized base model</text></g>%n", lx + 38, ly + 50));

        List<String> missing = report.rows().stream().filter(r -> !r.ok())
                .map(r -> r.type() + " (" + r.status().label() + ")").toList();
        if (!missing.isEmpty()) {
            s.append(f("<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#555555\">Not plotted: %s</text>%n", LEFT, HEIGHT - 16,
                    xml(String.join(", ", missing))));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    /** The first spot around the point clear of other labels, points and the front's line: right, left, above, below, then further out. */
    private static Box placeLabel(double x, double y, String text, List<Box> taken, List<double[]> segments) {
        double w = text.length() * CHAR_WIDTH;
        double[][] offsets = {{9, -LABEL_HEIGHT / 2.0}, {-9 - w, -LABEL_HEIGHT / 2.0}, {-w / 2, -LABEL_HEIGHT - 8}, {-w / 2, 8},
                {9, -LABEL_HEIGHT - 10}, {9, 10}, {-9 - w, -LABEL_HEIGHT - 10}, {-9 - w, 10},
                {9, -LABEL_HEIGHT - 26}, {9, 26}, {-9 - w, -LABEL_HEIGHT - 26}, {-9 - w, 26}};
        Box fallback = null;
        for (double[] o : offsets) {
            Box b = new Box(x + o[0], y + o[1], x + o[0] + w, y + o[1] + LABEL_HEIGHT);
            boolean inside = b.x0 >= LEFT + 2 && b.x1 <= RIGHT - 2 && b.y0 >= TOP + 2 && b.y1 <= BOTTOM - 2;
            if (!inside) {
                continue;
            }
            if (fallback == null) {
                fallback = b;
            }
            if (taken.stream().noneMatch(b::overlaps) && segments.stream().noneMatch(s -> b.crosses(s[0], s[1], s[2], s[3]))) {
                return b;
            }
        }
        return fallback != null ? fallback : new Box(x + 9, y - LABEL_HEIGHT / 2.0, x + 9 + w, y + LABEL_HEIGHT / 2.0);
    }

    private static double sx(double v, Ticks t) {
        return LEFT + (v - t.first) / (t.last - t.first) * (RIGHT - LEFT);
    }

    private static double sy(double v, Ticks t) {
        return BOTTOM - (v - t.first) / (t.last - t.first) * (BOTTOM - TOP);
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
