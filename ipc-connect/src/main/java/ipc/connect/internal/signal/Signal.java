package ipc.connect.internal.signal;

import static ipc.connect.internal.memory.SharedAccess.getAndAddInt;
import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getIntVolatile;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A wait/wake point in shared memory laid out by {@link SignalDescriptor}.
 *
 * <p>Protocol (a Dekker pair): a writer publishes its data (a release store), then calls {@link #signal()}, which
 * issues a full fence and reads the waiter count; a sleeper {@linkplain #announce() announces} itself (an atomic
 * add, also a full fence), re-checks its condition, and only then {@linkplain #await sleeps} on the sequence value it
 * read before announcing. Either the sleeper sees the data, or the writer sees the sleeper and bumps the sequence,
 * so the sleep returns at once or is woken: no lost wake-up.
 */
public final class Signal {
    /** The kernel's wait of this platform, or {@code null}: the portable fallback. */
    private static final KernelWait KERNEL = KernelWait.forThisPlatform();

    private final MemorySegment segment;
    private final long offset;
    private final MemorySegment word;

    public Signal(MemorySegment segment, long offset) {
        if (offset % 8 != 0 || offset < 0 || offset + SignalDescriptor.LENGTH > segment.byteSize()) {
            throw new IllegalArgumentException("signal at " + offset + " does not fit an aligned place in a segment of "
                    + segment.byteSize() + " bytes");
        }
        this.segment = segment;
        this.offset = offset;
        this.word = segment.asSlice(offset + SignalDescriptor.SEQUENCE_OFFSET, 4);
    }

    /** Whether sleepers sleep in the kernel ({@code true}) or back off with {@code parkNanos} (fallback). */
    public static boolean kernelWait() {
        return KERNEL != null;
    }

    /** How sleepers sleep: {@code futex}, {@code os_sync_wait_on_address}, {@code __ulock_wait} or {@code fallback}. */
    public static String waitName() {
        return KERNEL != null ? KERNEL.name() : "fallback";
    }

    /**
     * Wakes the announced sleepers, if any; costs a fence and a load when there are none. Writer side. On a mapping
     * already closed (the connection ended under a late writer) there is nobody left to wake: nothing happens.
     */
    public void signal() {
        VarHandle.fullFence();
        try {
            if (getIntVolatile(segment, offset + SignalDescriptor.WAITERS_OFFSET) != 0) {
                wakeAll();
            }
        } catch (IllegalStateException mappingClosed) {
            // see above
        }
    }

    /** Wakes every sleeper, announced or not; nothing on a closed mapping. */
    public void wakeAll() {
        try {
            getAndAddInt(segment, offset + SignalDescriptor.SEQUENCE_OFFSET, 1);
            if (KERNEL != null) {
                KERNEL.wakeAll(word);
            }
        } catch (IllegalStateException mappingClosed) {
            // nobody left to wake
        }
    }

    /**
     * Announces a sleeper. The caller must re-check its condition after this and before {@link #await}, and call
     * {@link #retract()} once done waiting.
     *
     * @return the sequence value to pass to {@link #await}
     */
    public int announce() {
        int sequence = getIntAcquire(segment, offset + SignalDescriptor.SEQUENCE_OFFSET);
        getAndAddInt(segment, offset + SignalDescriptor.WAITERS_OFFSET, 1);
        return sequence;
    }

    /** Withdraws an announcement made by {@link #announce()}. */
    public void retract() {
        getAndAddInt(segment, offset + SignalDescriptor.WAITERS_OFFSET, -1);
    }

    /**
     * Sleeps until woken, or the sequence moved past {@code sequence}, or {@code timeoutNanos} passed.
     *
     * @param scratch from {@link #newScratch()}, owned by the calling thread
     */
    public void await(int sequence, long timeoutNanos, MemorySegment scratch) {
        if (KERNEL != null) {
            KERNEL.await(word, sequence, timeoutNanos, scratch);
        } else if (getIntAcquire(segment, offset + SignalDescriptor.SEQUENCE_OFFSET) == sequence) {
            java.util.concurrent.locks.LockSupport.parkNanos(timeoutNanos); // the fallback polls: the caller backs off
        }
    }

    /** Scratch memory for {@link #await}, one per sleeping thread. */
    public static MemorySegment newScratch() {
        return KERNEL != null ? KERNEL.newScratch() : MemorySegment.NULL;
    }
}
