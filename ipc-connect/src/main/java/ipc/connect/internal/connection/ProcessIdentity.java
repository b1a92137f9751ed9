package ipc.connect.internal.connection;

import java.time.Instant;
import java.util.Optional;

/**
 * A process as named in a file header: pid plus start time, so a reused pid is not mistaken for the original.
 *
 * @param pid the process id
 * @param startMillis the process start time in epoch milliseconds, or 0 if unknown
 */
public record ProcessIdentity(long pid, long startMillis) {
    private static final ProcessIdentity CURRENT = of(ProcessHandle.current());

    public static ProcessIdentity current() {
        return CURRENT;
    }

    private static ProcessIdentity of(ProcessHandle handle) {
        return new ProcessIdentity(handle.pid(),
                handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
    }

    /** Whether this process still runs (the same one: pid and start time). */
    public boolean isAlive() {
        if (pid == CURRENT.pid) {
            return true;
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return false;
        }
        if (startMillis == 0) {
            return true;
        }
        // Start times come from /proc with tick granularity; the same process always yields the same value, a
        // process that reused the pid a different one.
        return handle.get().info().startInstant()
                .map(start -> Math.abs(start.toEpochMilli() - startMillis) < 20)
                .orElse(true);
    }
}
