package ipc.connect.internal.connection;

/**
 * A body being written into a ring, as its {@link FrameWriter} and {@link Credit} see it: whether to write on, and
 * its name for exception messages. An exchange is its own, so that sending a body makes no object for either.
 */
interface Outgoing {
    /** Whether to write no more of the body: it was cancelled, or its receiver wants no more. */
    boolean stopSending();

    /** Names the body in exception messages (channel and request). */
    String description();

    /** The writer is about to park until the consumer makes room in the ring (after a poll for it ran out). */
    default void beforeWaitingForRoom() {
    }

    /**
     * The sender found no window credit: reads the ring the window comes through (the WINDOW frames of this body)
     * once, unless another thread reads it now, so that credit granted already needs no hand-off from the thread
     * that usually reads it. See {@link Credit}.
     */
    default void pollForCredit() {
    }
}
