package ipc.connect.internal.connection;

import java.util.function.BooleanSupplier;

/**
 * A body as a test's {@link FrameWriter} and {@link Credit} see it: its name, whether it stops, its poll for credit.
 */
record TestBody(String description, BooleanSupplier stops, Runnable creditPoll) implements Outgoing {
    TestBody(String description, BooleanSupplier stops) {
        this(description, stops, () -> {
        });
    }

    @Override
    public boolean stopSending() {
        return stops.getAsBoolean();
    }

    @Override
    public void pollForCredit() {
        creditPoll.run();
    }
}
