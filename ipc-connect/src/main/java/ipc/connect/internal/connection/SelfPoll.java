package ipc.connect.internal.connection;

import ipc.connect.internal.signal.CoreTurn;
import ipc.connect.internal.signal.SignalWaiter;
import ipc.connect.internal.signal.Spinners;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A thread that reads a ring itself for what it waits for, in place of the thread that usually reads it (a client's
 * caller for its response, a handler for more of its request): it spins while it holds one of the process's
 * spinning places ({@link Spinners}), trying for one meanwhile, and yields otherwise, until what it waits for has come
 * or its time is up. It yields its core, never its carrier ({@link CoreTurn#yieldCore()}: a virtual thread polling
 * its connection must not wait for a carrier meanwhile), and gives the core away when its turn is over
 * ({@link CoreTurn}).
 */
final class SelfPoll {
    /**
     * How long a thread that finds no free place among the process's {@link Spinners} polls, trying for one and
     * yielding, before it gives up: the place may be its own connection's reader's, which gives it up within a pass
     * once it runs and sees the caller. Short, as many callers may be polling so (from 32 connections on 2 cores, 2 µs
     * here gave 37,500-114,000 requests/s against 33,200-40,600 with 20 µs, in noisy runs). Yielding matters when the
     * reader shares the caller's core: spinning, the caller kept it off, parked, and had its response delivered
     * through the reader 10-15 µs later; the reader then held the place again for the next call (27% of 500,000 sync
     * calls found no place and 10% parked; yielding, 3-4% and 3-4%).
     */
    private static final long PLACE_GRACE_NANOS = TimeUnit.MICROSECONDS.toNanos(5);

    /**
     * How long a thread reading a body as it streams (a client's caller its response, a server's handler its request)
     * polls for more before it parks. While a body streams, the producer's pauses (a wait for room or for window, a
     * turn of the core lost) last up to a few hundred microseconds; a reader that parks then must be woken through
     * the other process's poller and its own: on 2 cores each such hand-off took a millisecond or more, and pulled the
     * woken threads onto one core (a scheduler trace: both busy threads on one core, the other idle). With 200 µs
     * here, 37 GB of zero-copy upload (4 GB streams) parked the server's reader 2,600-5,700 times, 0.8-1.3 s in all;
     * with 1 ms, 400-570 times, 0.3-0.5 s, and the streams' median went from about 225 to 160 ms. Paid only by a
     * stream whose producer pauses longer than that: once per pause.
     */
    static final long STREAM_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** The time is looked at once in this many passes. */
    private static final int CLOCK_EVERY = 8;

    /**
     * Polls {@code ready} for at most {@code nanos}, spinning and now and then yielding the core (the thread it waits
     * for may share it: {@link SignalWaiter#shouldYield}), before a thread parks for a wait that another thread of
     * this process would end once it sees the peer move (room in a ring): while the peer keeps up, such a wait ends
     * within microseconds, and the park costs an unpark through that other thread, and two system calls.
     *
     * @return whether {@code ready} held
     */
    static boolean briefly(BooleanSupplier ready, long nanos) {
        long until = System.nanoTime() + nanos;
        for (int pass = 1; ; pass++) {
            if (ready.getAsBoolean()) {
                return true;
            }
            if (SignalWaiter.shouldYield(pass, true)) {
                if (System.nanoTime() - until >= 0) {
                    return false;
                }
                CoreTurn.yieldCore();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** What a thread waits for, and how it reads the ring for it. Used by that thread only. */
    interface Target {
        /** Whether what the thread waits for has come. */
        boolean arrived();

        /** Reads the ring once, unless another thread reads it now; returns the frames consumed. */
        int pollOnce();

        /** The turn on its core of the thread that polls: see {@link CoreTurn}. */
        CoreTurn turn();
    }

    private SelfPoll() {
    }

    /**
     * Polls for {@code target}, for {@code spinFor} from {@code now} once it has a spinning place.
     *
     * @param yieldEarly whether to yield at once between idle passes: the peer was just woken, and may be waiting for
     *     this very core (see {@link SignalWaiter#shouldYield})
     * @return whether it arrived
     */
    static boolean poll(Target target, long now, long spinFor, boolean yieldEarly) {
        return poll(target, now, spinFor, yieldEarly, PLACE_GRACE_NANOS);
    }

    /**
     * {@link #poll(Target, long, long, boolean)}, polling for {@code placeGrace} (at most {@code spinFor}) if it
     * finds no spinning place.
     */
    static boolean poll(Target target, long now, long spinFor, boolean yieldEarly, long placeGrace) {
        boolean spinning = Spinners.tryEnter();
        // On one core nobody spins: the thread polls for the whole time, yielding at every pass so the peer runs.
        long until = now + (spinning || Spinners.PLACES == 0 ? spinFor : Math.min(placeGrace, spinFor));
        try {
            CoreTurn turn = target.turn();
            boolean virtual = Thread.currentThread().isVirtual();
            for (int idle = 1, pass = 1; !target.arrived(); idle++) {
                // the clock once in CLOCK_EVERY passes: it costs as much as the rest of an idle pass
                if ((pass++ & (CLOCK_EVERY - 1)) == 0) {
                    long clock = System.nanoTime();
                    if (clock - until >= 0) {
                        break;
                    }
                    if (turn.yieldIfOver(clock)) {
                        continue; // a busy core's other threads (the peer's, a third client's) have had a turn
                    }
                }
                if (!spinning && (spinning = Spinners.tryEnter())) {
                    until = now + spinFor;
                }
                if (target.pollOnce() != 0) {
                    idle = 0;
                } else if (!spinning || !virtual && SignalWaiter.shouldYield(idle, yieldEarly)) {
                    // few cores: let the peer (or its handler) run; without a place, let its holder run too, which
                    // may be this connection's reader on this very core: it gives the place up once it runs. A
                    // virtual thread with a place (a handler's, polling for its connection's next request) spins
                    // on: its core given away so, the JIT compiler or the dispatcher ran then, and one busy
                    // connection's p99 went from 16-29 µs to 60-62 (bench --connections); its turn yields when
                    // the cores are contended
                    CoreTurn.yieldCore();
                } else {
                    Thread.onSpinWait();
                }
            }
        } finally {
            if (spinning) {
                Spinners.leave();
            }
        }
        return target.arrived();
    }
}
