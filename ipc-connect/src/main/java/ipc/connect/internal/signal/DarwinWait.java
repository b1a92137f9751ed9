package ipc.connect.internal.signal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * macOS: {@code os_sync_wait_on_address_with_timeout} / {@code os_sync_wake_by_address_all} (macOS 14.4 and later,
 * public API) with {@code OS_SYNC_WAIT_ON_ADDRESS_SHARED}, else the older private {@code __ulock_wait} /
 * {@code __ulock_wake} with {@code UL_COMPARE_AND_WAIT_SHARED}; both wait across processes on a word of a shared
 * mapping, like a non-private futex.
 *
 * <p>Not run on macOS by this project's tests (no such machine in CI): the bindings follow Apple's headers and are
 * probed once before use (a wait on a word that differs must return at once, a wake without waiters must return), so
 * a mismatch falls back to the portable signal instead of failing at the first sleep.
 */
final class DarwinWait implements KernelWait {
    private static final int OS_SYNC_SHARED = 0x1; // OS_SYNC_WAIT_ON_ADDRESS_SHARED, OS_SYNC_WAKE_BY_ADDRESS_SHARED
    private static final int OS_CLOCK_MACH_ABSOLUTE_TIME = 32;
    private static final int UL_COMPARE_AND_WAIT_SHARED = 3;
    private static final int ULF_WAKE_ALL = 0x100;
    private static final long WORD_SIZE = 4;

    private final boolean osSync;
    private final MethodHandle wait;
    private final MethodHandle wake;

    private DarwinWait(boolean osSync, MethodHandle wait, MethodHandle wake) {
        this.osSync = osSync;
        this.wait = wait;
        this.wake = wake;
    }

    /** {@code os_sync_*} if this macOS has it, else {@code __ulock_*}, else {@code null}. */
    static DarwinWait create() {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup system = linker.defaultLookup();
            MemorySegment osSyncWait = system.find("os_sync_wait_on_address_with_timeout").orElse(null);
            MemorySegment osSyncWake = system.find("os_sync_wake_by_address_all").orElse(null);
            DarwinWait chosen;
            if (osSyncWait != null && osSyncWake != null) {
                // int (void *addr, uint64_t value, size_t size, uint32_t flags, uint32_t clockid,
                //      uint64_t timeout_ns)
                // int (void *addr, size_t size, uint32_t flags)
                chosen = new DarwinWait(true,
                        linker.downcallHandle(osSyncWait, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)),
                        linker.downcallHandle(osSyncWake, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)));
            } else {
                MemorySegment ulockWait = system.find("__ulock_wait").orElse(null);
                MemorySegment ulockWake = system.find("__ulock_wake").orElse(null);
                if (ulockWait == null || ulockWake == null) {
                    return null;
                }
                // int (uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us)
                // int (uint32_t operation, void *addr, uint64_t wake_value)
                chosen = new DarwinWait(false,
                        linker.downcallHandle(ulockWait, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT)),
                        linker.downcallHandle(ulockWake, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG)));
            }
            chosen.probe();
            return chosen;
        } catch (RuntimeException | LinkageError e) {
            System.getLogger(DarwinWait.class.getName()).log(System.Logger.Level.WARNING,
                    "os_sync_wait_on_address and __ulock_wait unusable, using the portable spin/park fallback: " + e);
            return null;
        }
    }

    /** Both calls return on a word nobody sleeps on, whose value differs from the one expected. */
    private void probe() {
        MemorySegment word = java.lang.foreign.Arena.ofAuto().allocate(WORD_SIZE, WORD_SIZE);
        word.set(ValueLayout.JAVA_INT, 0, 1);
        await(word, 0, 1_000_000, MemorySegment.NULL);
        wakeAll(word);
    }

    @Override
    public String name() {
        return osSync ? "os_sync_wait_on_address" : "__ulock_wait";
    }

    /** None needed: the timeout goes by value. */
    @Override
    public MemorySegment newScratch() {
        return MemorySegment.NULL;
    }

    @Override
    public void await(MemorySegment word, int expected, long timeoutNanos, MemorySegment scratch) {
        long nanos = Math.max(1_000, timeoutNanos); // 0 would mean no timeout for __ulock_wait
        try {
            // a return of -1 (ETIMEDOUT, EINTR, EFAULT...) is as good as a wake: the caller re-checks
            int ignored = osSync
                    ? (int) wait.invokeExact(word, Integer.toUnsignedLong(expected), WORD_SIZE, OS_SYNC_SHARED,
                            OS_CLOCK_MACH_ABSOLUTE_TIME, nanos)
                    : (int) wait.invokeExact(UL_COMPARE_AND_WAIT_SHARED, word, Integer.toUnsignedLong(expected),
                            (int) Math.min(Integer.MAX_VALUE, nanos / 1_000));
        } catch (Throwable t) {
            throw new IllegalStateException(name() + " failed", t);
        }
    }

    @Override
    public void wakeAll(MemorySegment word) {
        try {
            // -1 with ENOENT when nobody sleeps there: nothing to do
            int ignored = osSync
                    ? (int) wake.invokeExact(word, WORD_SIZE, OS_SYNC_SHARED)
                    : (int) wake.invokeExact(UL_COMPARE_AND_WAIT_SHARED | ULF_WAKE_ALL, word, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException(name() + " wake failed", t);
        }
    }
}
