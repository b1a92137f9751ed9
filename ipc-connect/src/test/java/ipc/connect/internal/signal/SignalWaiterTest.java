package ipc.connect.internal.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The process's places for spinning threads, as waiters take and give them back. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SignalWaiterTest {
    private static final long SLEEP = TimeUnit.MILLISECONDS.toNanos(1);

    private static SignalWaiter waiter(int spins) {
        return new SignalWaiter(new Signal(Arena.ofAuto().allocate(SignalDescriptor.LENGTH, 8), 0), spins, 10, SLEEP);
    }

    @Test
    void halfTheCoresSpinAndNoneOnOneCore() {
        assertEquals(0, Spinners.placesFor(1));
        assertEquals(1, Spinners.placesFor(2));
        assertEquals(1, Spinners.placesFor(3));
        assertEquals(4, Spinners.placesFor(8));
        assertEquals(Spinners.placesFor(Runtime.getRuntime().availableProcessors()), Spinners.PLACES);
    }

    @Test
    void noMoreWaitersSpinThanThereArePlaces() {
        assumeTrue(Spinners.PLACES > 0, "one core: no places (halfTheCoresSpinAndNoneOnOneCore covers it)");
        int free = Spinners.PLACES - Spinners.taken(); // threads of other tests may hold some
        assertTrue(free > 0, "threads left over by other tests hold all " + Spinners.PLACES + " places");
        List<SignalWaiter> waiters = new ArrayList<>();
        try {
            for (int i = 0; i <= free; i++) {
                SignalWaiter waiter = waiter(1_000);
                waiter.idle(false, SLEEP);
                waiters.add(waiter);
            }
            for (int i = 0; i < free; i++) {
                assertTrue(waiters.get(i).isSpinning(), "waiter " + i + " of " + free + " free places spins");
            }
            SignalWaiter last = waiters.get(free);
            assertFalse(last.isSpinning(), "all " + Spinners.PLACES + " places taken: the next waiter does not spin");
            for (int i = 0; i < 20; i++) {
                last.idle(false, SLEEP); // yields, announces, sleeps a millisecond: never takes a place meanwhile
                assertFalse(last.isSpinning());
            }

            SignalWaiter first = waiters.getFirst();
            first.stopSpinning();
            assertFalse(first.isSpinning());
            last.reset(); // work came: the next idle period spins, now that a place is free
            last.idle(false, SLEEP);
            assertTrue(last.isSpinning());
        } finally {
            waiters.forEach(SignalWaiter::stopSpinning);
        }
        assertEquals(Spinners.PLACES - free, Spinners.taken(), "every place given back");
    }

    @Test
    void aWaiterKeepsItsPlaceWhileItFindsWorkAndGivesItBackToYield() {
        assumeTrue(Spinners.PLACES > 0, "one core: no places (halfTheCoresSpinAndNoneOnOneCore covers it)");
        SignalWaiter waiter = waiter(3);
        try {
            waiter.idle(false, SLEEP);
            assertTrue(waiter.isSpinning());
            waiter.reset();
            waiter.idle(false, SLEEP);
            waiter.idle(false, SLEEP);
            waiter.idle(false, SLEEP);
            assertTrue(waiter.isSpinning(), "three passes spun: still in its place");
            waiter.idle(false, SLEEP);
            assertFalse(waiter.isSpinning(), "yielding now: the place is free for another thread");
        } finally {
            waiter.stopSpinning();
        }
    }

    @Test
    void aSpinningLoopReadsTheClockOnceIn64IdlePassesAndOnEveryOtherPass() {
        SignalWaiter waiter = waiter(1_000);
        try {
            assertTrue(waiter.isClockDue(), "not spinning yet");
            waiter.idle(false, SLEEP);
            if (!waiter.isSpinning()) {
                assertTrue(Spinners.PLACES == 0 || Spinners.taken() == Spinners.PLACES, "no place to spin in");
                assertTrue(waiter.isClockDue(), "yielding passes read the clock every time");
                return;
            }
            int due = 0;
            for (int pass = 1; pass <= 640; pass++) { // the idle passes counted so far: pass
                due += waiter.isClockDue() ? 1 : 0;
                waiter.idle(false, SLEEP);
            }
            assertEquals(10, due, "640 spinning passes: the clock after passes 64, 128, ... 640");
            waiter.reset();
            assertTrue(waiter.isClockDue(), "the first idle pass after work");
            waiter.stopSpinning();
            assertTrue(waiter.isClockDue(), "no place: every pass");
        } finally {
            waiter.stopSpinning();
        }
    }
}
