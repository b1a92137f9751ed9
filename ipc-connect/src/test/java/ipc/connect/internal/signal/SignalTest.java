package ipc.connect.internal.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The wake protocol of a signal in one process: announced sleepers, and pollers standing in for them. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SignalTest {
    private final MemorySegment memory = Arena.ofAuto().allocate(SignalDescriptor.LENGTH, 8);
    private final Signal signal = new Signal(memory, 0);

    private int sequence() {
        return memory.get(ValueLayout.JAVA_INT, SignalDescriptor.SEQUENCE_OFFSET);
    }

    @Test
    void aWriterWakesAnnouncedSleepersUnlessAPollerStandsInForThem() {
        assertFalse(signal.signal(), "nobody announced: no wake");
        assertEquals(0, sequence());

        signal.announce();
        assertTrue(signal.hasSleepers());
        assertTrue(signal.signal(), "an announced sleeper is woken");
        assertEquals(1, sequence());

        signal.startPolling();
        assertFalse(signal.signal(), "a poller reads in the sleeper's stead: the writer skips the wake");
        assertEquals(1, sequence());
        signal.wakeSleepers();
        assertEquals(2, sequence(), "what the poller leaves goes to the sleeper, poller or not");

        signal.stopPolling();
        assertTrue(signal.signal(), "the poller is gone: writers wake again");
        assertEquals(3, sequence());

        signal.retract();
        assertFalse(signal.hasSleepers());
        assertFalse(signal.signal());
        assertEquals(3, sequence());
    }

    @Test
    void aWriterWhosePollersMayBeBusyWakesTheSleepersAnyway() {
        AtomicBoolean busy = new AtomicBoolean();
        AtomicBoolean asked = new AtomicBoolean();
        assertFalse(signal.signal(() -> asked.getAndSet(true)), "nobody announced: no wake");
        assertFalse(asked.get(), "asked only when sleepers are announced and pollers counted");

        signal.announce();
        assertTrue(signal.signal(() -> asked.getAndSet(true)), "no poller: the sleeper is woken");
        assertFalse(asked.get(), "asked only when pollers are counted");
        assertEquals(1, sequence());

        signal.startPolling();
        assertFalse(signal.signal(busy::get), "a poller free to read: the writer skips the wake");
        assertEquals(1, sequence());
        busy.set(true);
        assertTrue(signal.signal(busy::get), "the poller may be busy with earlier data: the sleeper is woken");
        assertEquals(2, sequence());
        signal.stopPolling();
        signal.retract();
    }

    @Test
    void pollersCountedApartSpareOnlyTheWritesThatSeeTheirCount() {
        // one doorbell, two rings writing to it, each with its own count of pollers (a channel's connections)
        MemorySegment counts = Arena.ofAuto().allocate(64, 8);
        Signal first = new Signal(memory, 0, counts, 0);
        Signal second = new Signal(memory, 0, counts, 32);
        signal.announce();
        first.startPolling();
        assertFalse(first.signal(), "a poller of the first ring: its writer skips the wake");
        assertEquals(0, sequence());
        assertTrue(second.signal(), "the second ring has no poller: its writer wakes the sleeper");
        assertEquals(1, sequence());
        assertTrue(signal.signal(), "the doorbell's own count is apart too");
        assertEquals(1, counts.get(ValueLayout.JAVA_INT, 0));
        assertEquals(0, memory.get(ValueLayout.JAVA_INT, SignalDescriptor.POLLERS_OFFSET));
        first.stopPolling();
        assertTrue(first.signal(), "the poller is gone: the first ring's writer wakes again");
        signal.retract();
        assertThrows(IllegalArgumentException.class, () -> new Signal(memory, 0, counts, 62),
                "a count that does not fit its segment");
    }

    @Test
    void aPollerThatStopsHandsOverToASleeperInTheKernel() throws Exception {
        // in the kernel, a sleep far longer than the wait below; the fallback can only poll (it backs off to ~13 ms)
        long sleep = Signal.kernelWait() ? TimeUnit.SECONDS.toNanos(20) : TimeUnit.MILLISECONDS.toNanos(13);
        AtomicBoolean data = new AtomicBoolean();
        CountDownLatch announced = new CountDownLatch(1);
        CountDownLatch woken = new CountDownLatch(1);
        Thread sleeper = Thread.ofPlatform().daemon().start(() -> {
            MemorySegment scratch = Signal.newScratch();
            int seen = signal.announce();
            announced.countDown();
            while (!data.get()) { // the protocol's re-check, then sleep until the sequence moves
                signal.await(seen, sleep, scratch);
                seen = memory.get(ValueLayout.JAVA_INT, SignalDescriptor.SEQUENCE_OFFSET);
            }
            signal.retract();
            woken.countDown();
        });
        try {
            assertTrue(announced.await(10, TimeUnit.SECONDS));
            Thread.sleep(100); // into its sleep
            signal.startPolling();
            data.set(true);
            assertFalse(signal.signal(), "written while a poller polls: no wake");
            signal.stopPolling();
            signal.wakeSleepers(); // the poller leaves the data unread: the sleeper takes over
            assertTrue(woken.await(5, TimeUnit.SECONDS), "the sleeper saw the data, woken, not at its timeout");
        } finally {
            sleeper.interrupt();
            sleeper.join(10_000);
        }
    }
}
