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
 * process is woken from another mapping the same file.
 */
final class Futex implements KernelWait {
    private static final long SYS_FUTEX_X86_64 = 202;
    private static final long SYS_FUTEX_AARCH64 = 98;
    private static final int FUTEX_WAIT = 0;
    private static final int FUTEX_WAKE = 1;

    private final MethodHandle syscall;
    private final long sysFutex;

    private Futex(MethodHandle syscall, long sysFutex) {
        this.syscall = syscall;
        this.sysFutex = sysFutex;
    }

    /** The futex of this machine, or {@code null} on an architecture without a known number or native access. */
    static Futex create() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        long number = switch (arch) {
            case "amd64", "x86_64" -> SYS_FUTEX_X86_64;
            case "aarch64", "arm64" -> SYS_FUTEX_AARCH64;
            default -> -1;
        };
        if (number < 0) {
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
            return new Futex(linker.downcallHandle(syscall, descriptor, Linker.Option.firstVariadicArg(1)), number);
        } catch (RuntimeException e) {
            // IllegalCallerException when native access is denied, UnsupportedOperationException on odd platforms
            System.getLogger(Futex.class.getName()).log(System.Logger.Level.WARNING,
                    "futex unavailable, using the portable spin/park fallback: " + e);
            return null;
        }
    }

    @Override
    public String name() {
        return "futex";
    }

    /** A 16-byte {@code struct timespec}. */
    @Override
    public MemorySegment newScratch() {
        return Arena.ofAuto().allocate(16, 8);
    }

    @Override
    public void await(MemorySegment word, int expected, long timeoutNanos, MemorySegment timespec) {
        long nanos = Math.max(0, timeoutNanos);
        timespec.set(ValueLayout.JAVA_LONG, 0, nanos / 1_000_000_000L);
        timespec.set(ValueLayout.JAVA_LONG, 8, nanos % 1_000_000_000L);
        try {
            long ignored = (long) syscall.invokeExact(sysFutex, word, FUTEX_WAIT, expected, timespec,
                    MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("futex wait failed", t);
        }
    }

    @Override
    public void wakeAll(MemorySegment word) {
        try {
            long ignored = (long) syscall.invokeExact(sysFutex, word, FUTEX_WAKE, Integer.MAX_VALUE,
                    MemorySegment.NULL, MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("futex wake failed", t);
        }
    }
}
