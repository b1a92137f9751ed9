package ipc.connect.internal.signal;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * A sleep on a 32-bit word of shared memory that any process mapping the same file can end by changing the word and
 * waking it: Linux {@code futex} ({@link Futex}), macOS {@code os_sync_wait_on_address} or {@code __ulock_wait}
 * ({@link DarwinWait}). Where none exists (Windows, other systems), or with the system property
 * {@code ipc.connect.signal=fallback}, {@link #forThisPlatform()} returns {@code null} and {@link Signal} falls back to
 * spinning and parking.
 */
sealed interface KernelWait permits Futex, DarwinWait {

    /** The kernel wait of this platform, or {@code null} if there is none (or it is disabled). */
    static KernelWait forThisPlatform() {
        if ("fallback".equals(System.getProperty("ipc.connect.signal"))) {
            return null;
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            return Futex.create();
        }
        if (os.startsWith("mac")) {
            return DarwinWait.create();
        }
        return null;
    }

    /** The system call, for logs and tests. */
    String name();

    /** Scratch memory for {@link #await}, owned by one thread. */
    MemorySegment newScratch();

    /**
     * Sleeps while {@code *word == expected}, at most {@code timeoutNanos}; returns on a wake, a timeout, a signal
     * or at once if the word differs. The caller re-checks its condition in every case.
     */
    void await(MemorySegment word, int expected, long timeoutNanos, MemorySegment scratch);

    /** Wakes every sleeper on {@code word}. */
    void wakeAll(MemorySegment word);
}
