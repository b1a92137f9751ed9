package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The exchange table alone: slots, ids that share a slot, removal by id and by identity, concurrency. */
class ExchangeTableTest {
    private record Entry(long requestId) implements ExchangeTable.Keyed {
    }

    private final ExchangeTable<Entry> table = new ExchangeTable<>();

    @Test
    void findsWhatWasPutAndNothingElse() {
        Entry one = new Entry(1);
        table.put(one);
        assertSame(one, table.get(1));
        assertNull(table.get(2));
        assertNull(table.get(1 + ExchangeTable.SLOTS), "same slot, other id: not a match");
        assertFalse(table.isEmpty());
        assertSame(one, table.remove(1));
        assertNull(table.get(1));
        assertNull(table.remove(1));
        assertTrue(table.isEmpty());
    }

    @Test
    void idsSharingASlotAreAllKeptAndFound() {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Entry entry = new Entry(7 + (long) i * ExchangeTable.SLOTS);
            entries.add(entry);
            table.put(entry);
        }
        for (Entry entry : entries) {
            assertSame(entry, table.get(entry.requestId()));
        }
        assertEquals(Set.copyOf(entries), new HashSet<>(table.snapshot()));
        table.remove(entries.get(0)); // frees the slot; the others stay in the overflow
        assertNull(table.get(entries.get(0).requestId()));
        for (Entry entry : entries.subList(1, 5)) {
            assertSame(entry, table.remove(entry.requestId()));
        }
        assertTrue(table.isEmpty());
        assertEquals(List.of(), table.snapshot());
    }

    @Test
    void removingByIdentityLeavesAnotherEntryWithTheSameIdAlone() {
        Entry first = new Entry(3);
        table.put(first);
        table.remove(first);
        Entry second = new Entry(3); // a hostile client may reuse an id once its exchange is over
        table.put(second);
        table.remove(first);
        assertSame(second, table.get(3));
    }

    @Test
    void clearEmptiesSlotsAndOverflow() {
        for (long id = 0; id < 3L * ExchangeTable.SLOTS; id += 512) {
            table.put(new Entry(id));
        }
        table.clear();
        assertTrue(table.isEmpty());
        assertEquals(List.of(), table.snapshot());
        assertNull(table.get(0));
    }

    /** Two threads put and remove ids of one counter, far more than the slots in flight: none lost or mixed. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void concurrentPutsAndRemovesKeepEveryEntry() throws Exception {
        int perThread = 200_000;
        int inFlight = 3 * ExchangeTable.SLOTS;
        AtomicReference<String> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong ids = new java.util.concurrent.atomic.AtomicLong();
        Runnable worker = () -> {
            java.util.ArrayDeque<Entry> mine = new java.util.ArrayDeque<>();
            for (int i = 0; i < perThread && failure.get() == null; i++) {
                Entry entry = new Entry(ids.incrementAndGet());
                table.put(entry);
                mine.add(entry);
                if (mine.size() > inFlight) {
                    Entry old = mine.poll();
                    if (table.get(old.requestId()) != old || table.remove(old.requestId()) != old) {
                        failure.compareAndSet(null, "lost request " + old.requestId());
                    }
                }
            }
            for (Entry old : mine) {
                if (table.get(old.requestId()) != old) {
                    failure.compareAndSet(null, "lost request " + old.requestId());
                }
                table.remove(old);
            }
        };
        Thread a = Thread.ofPlatform().start(worker);
        Thread b = Thread.ofPlatform().start(worker);
        a.join();
        b.join();
        assertNull(failure.get());
        assertTrue(table.isEmpty());
        assertEquals(List.of(), table.snapshot());
    }
}
