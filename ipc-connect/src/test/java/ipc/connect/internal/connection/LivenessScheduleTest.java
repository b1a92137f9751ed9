package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The periods of the liveness looks: short while something waits on the answer, long when idle. */
class LivenessScheduleTest {
    private static final long BUSY = LivenessSchedule.BUSY_PERIOD_NANOS;
    private static final long IDLE = LivenessSchedule.IDLE_PERIOD_NANOS;

    @Test
    void aLookIsDueOncePerPeriodAndTheSleepEndsAtTheNextOne() {
        LivenessSchedule liveness = new LivenessSchedule();
        long start = System.nanoTime() + 1; // at or after the schedule's own start
        assertFalse(liveness.due(start, true), "nothing due at the start");
        long later = start + BUSY;
        assertTrue(liveness.due(later, true), "busy: due after the busy period");
        assertFalse(liveness.due(later, true), "counted as made");
        assertEquals(BUSY, liveness.untilNext(later, true));
        assertEquals(IDLE, liveness.untilNext(later, false));
        assertFalse(liveness.due(later + BUSY, false), "idle: not due after the busy period");
        assertEquals(IDLE - BUSY, liveness.untilNext(later + BUSY, false));
        assertTrue(liveness.due(later + BUSY, true), "busy again: due at once, the busy period being over");
        assertEquals(0, liveness.untilNext(later + 2 * IDLE, false), "overdue: no sleep");
    }
}
