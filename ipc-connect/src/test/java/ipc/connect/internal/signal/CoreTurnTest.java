package ipc.connect.internal.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A busy thread's turns on its core, and the yield that ends one. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CoreTurnTest {
    private static final long SLICE = TimeUnit.MICROSECONDS.toNanos(CoreTurn.SLICE_MICROS);
    private static final long LONGEST = TimeUnit.MICROSECONDS.toNanos(CoreTurn.LONGEST_MICROS);
    private static final long SWITCHED = TimeUnit.MICROSECONDS.toNanos(CoreTurn.SWITCHED_MICROS);

    @Test
    void aTurnEndsOnlyOnceItHasLastedAndOnlyWhileTheCoresAreContended() {
        long start = System.nanoTime();
        CoreTurn turn = new CoreTurn();
        assertFalse(turn.yieldIfOver(start), "a turn that began after this clock reading is not over");
        refuseAPlace();
        // after the turn began (a grain at most before the refusal) by its length, and within a contended spell
        long over = Spinners.refusedAt() + TimeUnit.MICROSECONDS.toNanos(Spinners.REFUSED_GRAIN_MICROS) + turn.length();
        assertTrue(turn.yieldIfOver(over), "over, a place refused just before: yields");
        assertFalse(turn.yieldIfOver(over), "the next turn began with the yield");

        long quiet = Math.max(System.nanoTime(), Spinners.refusedAt())
                + TimeUnit.MICROSECONDS.toNanos(CoreTurn.CONTENDED_MICROS) + TimeUnit.SECONDS.toNanos(1);
        assertFalse(turn.yieldIfOver(quiet), "no place refused for longer than a contended spell: no yield");
        assertFalse(turn.yieldIfOver(quiet + 1), "and the next turn began there");
    }

    /** Takes every free spinning place and one more (refused), and gives them back. */
    private static void refuseAPlace() {
        long before = Spinners.refusedAt();
        int taken = 0;
        while (Spinners.tryEnter()) {
            taken++;
        }
        for (int i = 0; i < taken; i++) {
            Spinners.leave();
        }
        assertTrue(System.nanoTime() - Spinners.refusedAt() < TimeUnit.MILLISECONDS.toNanos(100)
                && Spinners.refusedAt() - before >= 0, "the refusal was recorded");
    }

    @Test
    void turnsLengthenWhileNobodyWaitsAndShortenOnceSomebodyDoes() {
        assertEquals(2 * SLICE, CoreTurn.nextLength(SLICE, 0), "a yield that came straight back: twice as long");
        assertEquals(4 * SLICE, CoreTurn.nextLength(2 * SLICE, SWITCHED - 1));
        assertEquals(LONGEST, CoreTurn.nextLength(LONGEST, 0), "never longer than the longest");
        assertEquals(LONGEST, CoreTurn.nextLength(LONGEST - 1, 0));
        assertEquals(SLICE, CoreTurn.nextLength(LONGEST, SWITCHED), "another thread ran meanwhile: a short turn");
        assertEquals(SLICE, CoreTurn.nextLength(SLICE, TimeUnit.MILLISECONDS.toNanos(3)));
    }

    /**
     * Every carrier but one kept busy by virtual threads that spin until released: a virtual thread that yields its
     * core many times still finishes, as it never gives its carrier up. {@link Thread#yield()} in its place hands
     * the carrier to a spinner and waits until they are released (fails at the latch).
     */
    @Test
    void aVirtualThreadThatYieldsItsCoreKeepsItsCarrier() throws InterruptedException {
        int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                Runtime.getRuntime().availableProcessors());
        AtomicBoolean release = new AtomicBoolean();
        CountDownLatch mounted = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        List<Thread> spinners = new ArrayList<>();
        try {
            Thread yielder = Thread.ofVirtual().name("core-turn-yielder").start(() -> {
                mounted.countDown();
                while (started.get() < carriers) {
                    Thread.onSpinWait(); // until the spinners have all been started: one waits for this carrier
                }
                for (int i = 0; i < 10_000; i++) {
                    CoreTurn.yieldCore();
                }
                done.countDown();
            });
            assertTrue(mounted.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < carriers; i++) {
                spinners.add(Thread.ofVirtual().name("core-turn-spinner-" + i).start(() -> {
                    while (!release.get()) {
                        Thread.onSpinWait();
                    }
                }));
                started.incrementAndGet();
            }
            assertTrue(done.await(20, TimeUnit.SECONDS),
                    "the yielding virtual thread lost its carrier to the " + carriers + " spinning ones");
            yielder.join();
        } finally {
            release.set(true);
            for (Thread spinner : spinners) {
                spinner.join();
            }
        }
    }
}
