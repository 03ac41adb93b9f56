package io.quant4j.eval.report;

/**
 * One line of the report: the base model or one quantization method, with what was measured for it, or why not.
 *
 * @param quantSeconds time {@link QuantizationMethod#produce} took (NaN for the base model)
 * @param measurement  null unless {@code status} is {@link Status#OK}
 */
public record ReportRow(String type, boolean base, Status status, String note, double quantSeconds, ModelMeasurement measurement) {

    public enum Status {
        OK, NOT_POSSIBLE, FAILED;

        public String label() {
            return switch (this) {
                case OK -> "ok";
                case NOT_POSSIBLE -> "not possible";
                case FAILED -> "failed";
            };
        }
    }

    public static ReportRow measured(String type, boolean base, double quantSeconds, ModelMeasurement m) {
        return new ReportRow(type, base, Status.OK, null, quantSeconds, m);
    }

    public static ReportRow notPossible(String type, String reason) {
        return new ReportRow(type, false, Status.NOT_POSSIBLE, reason, Double.NaN, null);
    }

    public static ReportRow failed(String type, String reason, double quantSeconds) {
        return new ReportRow(type, false, Status.FAILED, reason, quantSeconds, null);
    }

    public boolean ok() {
        return status == Status.OK;
    }

    /** "not possible: reason" / "failed: reason" / "ok". */
    public String statusText() {
        return note == null ? status.label() : status.label() + ": " + note;
    }
}
