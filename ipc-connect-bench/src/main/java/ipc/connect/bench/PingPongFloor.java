package ipc.connect.bench;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The machine's floor for a round trip through shared memory, with nothing of Ipc.Connect in it: a caller writes a
 * number to one cache line and spins until an echo thread, spinning on that line, writes it back on another. Both
 * yield every {@value #YIELD_EVERY} passes of a wait, so that on one core the other thread runs.
 *
 * <p>On a VM this moves with where the host runs the two virtual cores and what else it runs there: the small rows of
 * {@code bench} move with it.
 *
 * <p>Made {@link #waking()}, it is the floor for the first request after idle instead: the echo sleeps in the kernel
 * ({@link LockSupport#park}) whenever it has nothing to answer, never spinning, as an idle server does, and the caller
 * wakes it ({@link LockSupport#unpark}) with each number, then spins as a client does for its response. What it
 * measures then is the wake of a sleeping thread: on a VM, mostly the host's wake of the idle virtual core it slept on.
 */
final class PingPongFloor implements AutoCloseable {
    /** The caller's line and the echo's, 128 bytes apart. */
    private static final int PING = 0;
    private static final int PONG = 16;
    private static final int YIELD_EVERY = 1024;
    private static final long STOP = -1;

    private final AtomicLongArray lines = new AtomicLongArray(PONG + 16);
    /** Whether the echo sleeps while it waits, and the caller wakes it ({@link #waking()}). */
    private final boolean echoSleeps;
    private final Thread echo;
    private long sequence;

    private PingPongFloor(boolean echoSleeps) {
        this.echoSleeps = echoSleeps;
        echo = Thread.ofPlatform().daemon().name("ping-pong-floor").start(this::echo);
    }

    /** Both threads spin (and yield now and then) while they wait. */
    static PingPongFloor spinning() {
        return new PingPongFloor(false);
    }

    /** The echo sleeps while it waits, and each round trip wakes it: the floor for the first request after idle. */
    static PingPongFloor waking() {
        return new PingPongFloor(true);
    }

    private void echo() {
        long seen = 0;
        while (true) {
            long ping;
            for (int idle = 1; (ping = lines.getAcquire(PING)) == seen; idle++) {
                if (echoSleeps) {
                    LockSupport.park(this);
                } else {
                    FloorWait.idle(idle, YIELD_EVERY);
                }
            }
            if (ping == STOP) {
                return;
            }
            seen = ping;
            lines.setRelease(PONG, ping);
        }
    }

    /** One round trip: the caller's thread only. */
    void roundTrip() {
        long number = ++sequence;
        lines.setRelease(PING, number);
        if (echoSleeps) {
            LockSupport.unpark(echo);
        }
        for (int idle = 1; lines.getAcquire(PONG) != number; idle++) {
            FloorWait.idle(idle, YIELD_EVERY);
        }
    }

    /** Stops the echo thread and waits for it. */
    @Override
    public void close() throws InterruptedException {
        lines.setRelease(PING, STOP);
        LockSupport.unpark(echo);
        echo.join();
    }
}
