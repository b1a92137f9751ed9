package ipc.connect.internal.signal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Linux {@code futex(2)} through {@code syscall(2)}, shared (not {@code FUTEX_PRIVATE_FLAG}) so a wait in one
 * process is woken from another mapping the same file. Set the system property {@code ipc.connect.signal=fallback}
 * to disable it (for tests of the portable path).
 */
final class Futex {
    private static final long SYS_FUTEX_X86_64 = 202;
    private static final long SYS_FUTEX_AARCH64 = 98;
    private static final int FUTEX_WAIT = 0;
    private static final int FUTEX_WAKE = 1;

    private static final MethodHandle SYSCALL = lookup();
    private static final long SYS_FUTEX = sysFutex();

    private Futex() {
    }

    /** Whether futex calls work here. */
    static boolean available() {
        return SYSCALL != null && SYS_FUTEX > 0;
    }

    private static long sysFutex() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> SYS_FUTEX_X86_64;
            case "aarch64", "arm64" -> SYS_FUTEX_AARCH64;
            default -> -1;
        };
    }

    private static MethodHandle lookup() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                || "fallback".equals(System.getProperty("ipc.connect.signal"))) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            MemorySegment syscall = linker.defaultLookup().find("syscall").orElse(null);
            if (syscall == null) {
                return null;
            }
            // long syscall(long number, ...): futex(uaddr, op, val, timeout, uaddr2, val3)
            FunctionDescriptor descriptor = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
            return linker.downcallHandle(syscall, descriptor, Linker.Option.firstVariadicArg(1));
        } catch (RuntimeException e) {
            // IllegalCallerException when native access is denied, UnsupportedOperationException on odd platforms
            System.getLogger(Futex.class.getName()).log(System.Logger.Level.WARNING,
                    "futex unavailable, using the portable spin/park fallback: " + e);
            return null;
        }
    }

    /** A 16-byte {@code struct timespec} for {@link #await}, owned by one thread. */
    static MemorySegment newTimespec() {
        return Arena.ofAuto().allocate(16, 8);
    }

    /**
     * Sleeps while {@code *word == expected}, at most {@code timeoutNanos}; returns on a wake, a timeout, a signal
     * or at once if the word differs. The caller re-checks its condition in every case.
     */
    static void await(MemorySegment word, int expected, long timeoutNanos, MemorySegment timespec) {
        long nanos = Math.max(0, timeoutNanos);
        timespec.set(ValueLayout.JAVA_LONG, 0, nanos / 1_000_000_000L);
        timespec.set(ValueLayout.JAVA_LONG, 8, nanos % 1_000_000_000L);
        try {
            long ignored = (long) SYSCALL.invokeExact(SYS_FUTEX, word, FUTEX_WAIT, expected, timespec,
                    MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("futex wait failed", t);
        }
    }

    /** Wakes up to {@code count} sleepers on {@code word}. */
    static void wake(MemorySegment word, int count) {
        try {
            long ignored = (long) SYSCALL.invokeExact(SYS_FUTEX, word, FUTEX_WAKE, count, MemorySegment.NULL,
                    MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("futex wake failed", t);
        }
    }
}
