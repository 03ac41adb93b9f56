package io.quant4j.train;

import java.util.List;
import java.util.Locale;

/** A plain SVG line chart of the training loss (per step) and the validation loss (per evaluation). */
final class LossCurveSvg {
    private static final int WIDTH = 720;
    private static final int HEIGHT = 420;
    private static final int LEFT = 60;
    private static final int RIGHT = 20;
    private static final int TOP = 30;
    private static final int BOTTOM = 45;

    private LossCurveSvg() {
    }

    static String render(List<TrainingLog.Point> train, List<TrainingLog.Point> eval) {
        double maxStep = 1;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (List<TrainingLog.Point> series : List.of(train, eval)) {
            for (TrainingLog.Point p : series) {
                maxStep = Math.max(maxStep, p.step());
                if (Double.isFinite(p.loss())) {
                    lo = Math.min(lo, p.loss());
                    hi = Math.max(hi, p.loss());
                }
            }
        }
        if (!(lo <= hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        double pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>%n", LEFT, TOP, plotW, plotH));
        for (int i = 0; i <= 4; i++) {
            double v = lo + (hi - lo) * i / 4;
            double y = TOP + plotH - plotH * i / 4.0;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>%n", LEFT - 5, y + 4, v));
            double step = maxStep * i / 4;
            double x = LEFT + plotW * i / 4.0;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>%n", x, TOP + plotH + 16, step));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">optimizer step</text>%n", LEFT + plotW / 2, HEIGHT - 8));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\">loss (nats/token): <tspan fill=\"#1f77b4\">training (per step, and its moving average)</tspan>, <tspan fill=\"#d62728\">validation</tspan></text>%n", LEFT));
        polyline(s, train, "#aec7e8", maxStep, lo, hi, plotW, plotH);
        polyline(s, movingAverage(train, Math.max(1, train.size() / 20)), "#1f77b4", maxStep, lo, hi, plotW, plotH);
        polyline(s, eval, "#d62728", maxStep, lo, hi, plotW, plotH);
        for (TrainingLog.Point p : eval) {
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>%n",
                    x(p.step(), maxStep, plotW), y(p.loss(), lo, hi, plotH)));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    /** The mean of the last {@code window} points at each point: the per-step loss of a few sequences is noisy. */
    static List<TrainingLog.Point> movingAverage(List<TrainingLog.Point> points, int window) {
        List<TrainingLog.Point> out = new java.util.ArrayList<>();
        double sum = 0;
        for (int i = 0; i < points.size(); i++) {
            sum += points.get(i).loss();
            if (i >= window) {
                sum -= points.get(i - window).loss();
            }
            out.add(new TrainingLog.Point(points.get(i).step(), sum / Math.min(i + 1, window)));
        }
        return out;
    }

    private static void polyline(StringBuilder s, List<TrainingLog.Point> points, String color, double maxStep, double lo, double hi,
                                 int plotW, int plotH) {
        if (points.isEmpty()) {
            return;
        }
        s.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"1.5\" points=\"");
        for (TrainingLog.Point p : points) {
            if (Double.isFinite(p.loss())) {
                s.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(p.step(), maxStep, plotW), y(p.loss(), lo, hi, plotH)));
            }
        }
        s.append("\"/>\n");
    }

    private static double x(double step, double maxStep, int plotW) {
        return LEFT + plotW * step / maxStep;
    }

    private static double y(double loss, double lo, double hi, int plotH) {
        return TOP + plotH - plotH * (loss - lo) / (hi - lo);
    }
}
