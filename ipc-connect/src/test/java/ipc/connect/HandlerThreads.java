package ipc.connect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/** Which handler thread answers a client's calls, for the tests of the handler thread's poll and doze. */
final class HandlerThreads {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private HandlerThreads() {
    }

    /**
     * Empty calls on {@code client}, each {@code pauseNanos} after the last answer, until {@code wanted} have run on
     * the handler thread of the call before, at most {@code atMost}; returns how many did, and the calls made. The
     * handler answers with its thread's identity first (before a space, if more follows).
     */
    static int[] callsOnTheThreadBefore(IpcClient client, long pauseNanos, int atMost, int wanted)
            throws IOException {
        String previous = null;
        int sameThreadAsBefore = 0;
        int calls = 0;
        while (calls < atMost && sameThreadAsBefore < wanted) {
            if (previous != null) {
                long until = System.nanoTime() + pauseNanos;
                for (long left = pauseNanos; left > 0; left = until - System.nanoTime()) {
                    LockSupport.parkNanos(left);
                }
            }
            String thread = new String(client.sendAndReceive(new byte[0], TIMEOUT), StandardCharsets.UTF_8)
                    .split(" ")[0];
            if (thread.equals(previous)) {
                sameThreadAsBefore++;
            }
            previous = thread;
            calls++;
        }
        return new int[] {sameThreadAsBefore, calls};
    }
}
