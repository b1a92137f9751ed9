package ipc.connect.internal.signal;

import static ipc.connect.internal.memory.SharedAccess.getAndAddInt;
import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getIntVolatile;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.function.BooleanSupplier;

/**
 * A wait/wake point in shared memory laid out by {@link SignalDescriptor}.
 *
 * <p>Protocol (a Dekker pair): a writer publishes its data (a release store), then calls {@link #signal()}, which
 * issues a full fence and reads the waiter count; a sleeper {@linkplain #announce() announces} itself (an atomic
 * add, also a full fence), re-checks its condition, and only then {@linkplain #await sleeps} on the sequence value it
 * read before announcing. Either the sleeper sees the data, or the writer sees the sleeper and bumps the sequence,
 * so the sleep returns at once or is woken: no lost wake-up.
 *
 * <p>A thread of the sleepers' process may {@linkplain #startPolling() poll} in their stead for a while (a caller
 * waiting for its own response): writers then skip the wake, which would cost them a system call and put a thread
 * on a core for nothing. The same Dekker pair holds between the writer's data and the poller count: whoever
 * {@linkplain #stopPolling() stops} hands what it leaves unread to the sleepers by {@linkplain #wakeSleepers()
 * waking} them.
 *
 * <p>A counted poller may also doze: sleep on a signal of its own, which the writer's every ring of this one rings
 * too, after the same fence (the {@code dozers} of the constructor). It stays counted meanwhile, so the sleepers are
 * still spared, and is woken directly by the data it waits for.
 */
public final class Signal {
    /** The kernel's wait of this platform, or {@code null}: the portable fallback. */
    private static final KernelWait KERNEL = KernelWait.forThisPlatform();
    private static final BooleanSupplier NEVER = () -> false;

    private final MemorySegment segment;
    private final long offset;
    private final MemorySegment word;
    private final MemorySegment pollersSegment;
    private final long pollersOffset;
    /** Where counted pollers may doze, rung with this signal; {@code null}: they do not. */
    private final Signal dozers;

    public Signal(MemorySegment segment, long offset) {
        this(segment, offset, segment, offset + SignalDescriptor.POLLERS_OFFSET);
    }

    /**
     * The signal at {@code offset} of {@code segment}, its pollers counted in the 32-bit word at
     * {@code pollersOffset} of {@code pollersSegment} rather than in its own: a doorbell that several rings share (the
     * connections of a channel) and a count of pollers per ring, so that a thread polling one ring spares its writer
     * the wakes, and no other.
     */
    public Signal(MemorySegment segment, long offset, MemorySegment pollersSegment, long pollersOffset) {
        this(segment, offset, pollersSegment, pollersOffset, null);
    }

    /**
     * The signal at {@code offset} of {@code segment}, its pollers counted at {@code pollersOffset} of
     * {@code pollersSegment}, and dozing on {@code dozers} if they sleep: every ring of this signal ({@link #signal},
     * {@link #wakeSleepers}) rings {@code dozers}' announced sleepers too, counted pollers or not.
     */
    public Signal(MemorySegment segment, long offset, MemorySegment pollersSegment, long pollersOffset,
                  Signal dozers) {
        if (offset % 8 != 0 || offset < 0 || offset + SignalDescriptor.LENGTH > segment.byteSize()) {
            throw new IllegalArgumentException("signal at " + offset + " does not fit an aligned place in a segment of "
                    + segment.byteSize() + " bytes");
        }
        if (pollersOffset % 4 != 0 || pollersOffset < 0 || pollersOffset + 4 > pollersSegment.byteSize()) {
            throw new IllegalArgumentException("pollers count at " + pollersOffset
                    + " does not fit an aligned place in a segment of " + pollersSegment.byteSize() + " bytes");
        }
        this.segment = segment;
        this.offset = offset;
        this.word = segment.asSlice(offset + SignalDescriptor.SEQUENCE_OFFSET, 4);
        this.pollersSegment = pollersSegment;
        this.pollersOffset = pollersOffset;
        this.dozers = dozers;
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
     * Wakes the announced sleepers, if any and if no thread polls in their stead; costs a fence and two loads when
     * there is nothing to do. Writer side. On a mapping already closed (the connection ended under a late writer)
     * there is nobody left to wake: nothing happens.
     *
     * @return whether sleepers were woken (a system call was made, and they will take a while to run)
     */
    public boolean signal() {
        return wakeAnnounced(true, NEVER);
    }

    /**
     * {@link #signal()}, except that counted pollers do not spare the wake while {@code pollersMayBeBusy} holds:
     * a poller may be busy with earlier data, and read this only once done with it (a server's handler thread counts
     * as polling its connection while it answers a call: see the connection layer). Asked only when sleepers are
     * announced and pollers counted.
     */
    public boolean signal(BooleanSupplier pollersMayBeBusy) {
        return wakeAnnounced(true, pollersMayBeBusy);
    }

    /**
     * Wakes the announced sleepers, if any, pollers or not: they have something to look at that the pollers do not
     * see to (a deadline, room made by their own process, what a poller leaves unread).
     */
    public void wakeSleepers() {
        wakeAnnounced(false, NEVER);
    }

    /**
     * The writer's side of the Dekker pair: a full fence, then the announced sleepers (and pollers) are read, and the
     * dozing pollers' (their own signal's sleepers, behind the same fence).
     */
    private boolean wakeAnnounced(boolean unlessPolled, BooleanSupplier pollersMayBeBusy) {
        VarHandle.fullFence();
        boolean woke = false;
        try {
            if (getIntVolatile(segment, offset + SignalDescriptor.WAITERS_OFFSET) != 0 && (!unlessPolled
                    || getIntVolatile(pollersSegment, pollersOffset) == 0 || pollersMayBeBusy.getAsBoolean())) {
                wakeAll();
                woke = true;
            }
            if (dozers != null && dozers.hasSleepers()) {
                dozers.wakeAll();
                woke = true;
            }
        } catch (IllegalStateException mappingClosed) {
            // the connection ended under a late writer: nobody left to wake
        }
        return woke;
    }

    /** Whether a sleeper has announced itself: a cheap read, for deciding whether to {@link #startPolling()}. */
    public boolean hasSleepers() {
        try {
            return getIntAcquire(segment, offset + SignalDescriptor.WAITERS_OFFSET) != 0;
        } catch (IllegalStateException mappingClosed) {
            return false;
        }
    }

    /**
     * A thread of the sleepers' process polls their data in their stead: writers stop waking them until it
     * {@linkplain #stopPolling() stops}. Costs a write to the signal's cache line, which writers read: worth it only
     * while sleepers sleep.
     */
    public void startPolling() {
        addPollers(1);
    }

    /**
     * The poller stops. Writes may have skipped the wake meanwhile: the caller then {@linkplain #wakeSleepers()
     * wakes} the sleepers if anything is left for them (this call is a full fence, as the Dekker pair needs).
     */
    public void stopPolling() {
        addPollers(-1);
    }

    private void addPollers(int delta) {
        try {
            getAndAddInt(pollersSegment, pollersOffset, delta);
        } catch (IllegalStateException mappingClosed) {
            // the connection ended: nobody writes any more
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
