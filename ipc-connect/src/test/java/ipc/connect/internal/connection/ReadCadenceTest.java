package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When a pipelining sender reads the response ring: after one send in a few, never past half its window. */
class ReadCadenceTest {
    private static final long BACK_TO_BACK = TimeUnit.MICROSECONDS.toNanos(ReadCadence.BACK_TO_BACK_MICROS) - 1;
    private static final long STALL = TimeUnit.MICROSECONDS.toNanos(ReadCadence.STALL_MICROS);

    private final ReadCadence cadence = new ReadCadence();
    private long now = System.nanoTime() + STALL; // a first send long after the cadence's start

    /** Sends {@code sends} requests back to back, with {@code pending} exchanges pending at each; counts the reads. */
    private int readsOf(int sends, boolean turnHeld, int pending) {
        int reads = 0;
        for (int i = 0; i < sends; i++) {
            now += BACK_TO_BACK;
            if (cadence.readNow(now, turnHeld, pending)) {
                reads++;
            }
        }
        return reads;
    }

    @Test
    void aSenderWithAWideWindowReadsAfterOneSendInSixteen() {
        assertTrue(cadence.readNow(now, true, 256), "the first send reads: 256 pending, and no send before it");
        int sends = (ReadCadence.MAX_SKIPS + 1) * 100;
        assertEquals(100, readsOf(sends, true, 10));
    }

    @Test
    void everySendReadsWhileHalfTheMostEverPendingIsPending() {
        cadence.readNow(now, true, 8);
        assertEquals(50, readsOf(50, true, 4), "4 pending of a window of 8: no skip");
        assertEquals(50, readsOf(50, true, 5));
        int sends = (ReadCadence.MAX_SKIPS + 1) * 10;
        assertEquals(10, readsOf(sends, true, 3), "3 pending of 8: skips");
    }

    @Test
    void aSmallWindowNeverSkips() {
        assertEquals(1_000, readsOf(1_000, true, 3), "at most 3 pending: none is less than half of 3");
        assertEquals(1_000, readsOf(1_000, true, 1));
    }

    @Test
    void everySendReadsWithoutItsTurnOrAfterAPause() {
        cadence.readNow(now, true, 256);
        assertEquals(100, readsOf(100, false, 10), "the reader thread reads meanwhile: no skip");
        for (int i = 0; i < 100; i++) {
            now += BACK_TO_BACK + 1;
            assertTrue(cadence.readNow(now, true, 10), "sends further apart: the sender may wait on them");
        }
    }

    /** Sends back to back, with 10 pending, until one skips its read; returns how many read before it. */
    private int readsBeforeASkip() {
        for (int reads = 0; reads < 1 << 20; reads++) {
            if (!cadence.readNow(now += BACK_TO_BACK, true, 10)) {
                return reads;
            }
        }
        throw new AssertionError("no skip in 2^20 sends");
    }

    @Test
    void aWaitAfterASkipStopsTheSkipsForACoolDownEachTime() {
        cadence.readNow(now, true, 256);
        for (int wait = 0; wait < 3; wait++) {
            assertFalse(cadence.readNow(now += BACK_TO_BACK, true, 10), "skips");
            assertTrue(cadence.readNow(now += STALL, true, 10), "a wait after a skip");
            assertEquals(ReadCadence.COOL_DOWN_SENDS - 1, readsBeforeASkip(), "every send of the cool-down reads");
        }
    }

    @Test
    void aSenderSendsUntilItsSendsAreNoLongerBackToBack() {
        assertFalse(cadence.sendsAt(now), "no send yet");
        cadence.readNow(now, true, 2);
        assertTrue(cadence.sendsAt(now + BACK_TO_BACK));
        assertFalse(cadence.sendsAt(now + BACK_TO_BACK + 1));
    }

    @Test
    void aWaitAfterAReadStopsNoSkips() {
        cadence.readNow(now, true, 256);
        readsOf(ReadCadence.MAX_SKIPS + 1, true, 10); // ends with a read
        now += STALL;
        assertTrue(cadence.readNow(now, true, 10), "not back to back");
        assertFalse(cadence.readNow(now += BACK_TO_BACK, true, 10), "no cool-down: the wait left no response");
    }
}
