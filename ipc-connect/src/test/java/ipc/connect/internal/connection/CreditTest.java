package ipc.connect.internal.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.IpcTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A body's send window: takes within it, waits beyond it until a grant, a release or a cancellation. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CreditTest {
    private static final long NO_LIMIT = 0;

    private static int take(Credit credit, int wanted, AtomicBoolean cancelled) throws Exception {
        return credit.take(wanted, NO_LIMIT, body(cancelled));
    }

    private static Outgoing body(AtomicBoolean cancelled) {
        return new TestBody("test body", cancelled::get);
    }

    private static CompletableFuture<Integer> takeAsync(Credit credit, int wanted, AtomicBoolean cancelled) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return take(credit, wanted, cancelled);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void takesWithinTheWindowThenWaitsForAGrant() throws Exception {
        Credit credit = new Credit(100);
        AtomicBoolean cancelled = new AtomicBoolean();
        assertEquals(60, take(credit, 60, cancelled));
        assertEquals(40, take(credit, 60, cancelled), "no more than is left");

        CompletableFuture<Integer> waiting = takeAsync(credit, 60, cancelled);
        Thread.sleep(50);
        assertTrue(!waiting.isDone(), "the window is used up: the sender waits");
        credit.grant(25);
        assertEquals(25, waiting.get(10, TimeUnit.SECONDS), "the grant ends the wait, with what it granted");
    }

    @Test
    void aSenderWithoutCreditReadsTheWindowInItself() throws Exception {
        Credit credit = new Credit(10);
        AtomicBoolean cancelled = new AtomicBoolean();
        assertEquals(10, take(credit, 10, cancelled));
        Thread sender = Thread.currentThread();
        AtomicInteger polls = new AtomicInteger();
        Outgoing readsTheWindow = new TestBody("test body", () -> false, () -> {
            assertSame(sender, Thread.currentThread(), "the sender polls, no other thread");
            if (polls.incrementAndGet() == 3) {
                credit.grant(7); // the WINDOW frame this poll read in
            }
        });
        assertEquals(5, credit.take(5, NO_LIMIT, readsTheWindow), "taken from the credit its own poll read in");
        assertEquals(3, polls.get(), "polled until the credit came, then no more");
        assertEquals(2, credit.take(5, NO_LIMIT, readsTheWindow), "the rest of the grant");
        assertEquals(3, polls.get(), "credit was there: no poll");
    }

    @Test
    void manyGrantsAndTakesAddUp() throws Exception {
        Credit credit = new Credit(0);
        AtomicBoolean cancelled = new AtomicBoolean();
        int rounds = 20_000;
        CompletableFuture<Long> taker = CompletableFuture.supplyAsync(() -> {
            long total = 0;
            try {
                while (total < rounds * 3L) {
                    total += take(credit, 7, cancelled);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
            return total;
        });
        for (int i = 0; i < rounds; i++) {
            credit.grant(3);
        }
        assertEquals(rounds * 3L, taker.get(20, TimeUnit.SECONDS), "every granted byte taken once, none lost");
    }

    @Test
    void aReleaseOrACancellationEndsTheWait() throws Exception {
        Credit released = new Credit(0);
        AtomicBoolean cancelled = new AtomicBoolean();
        CompletableFuture<Integer> waiting = takeAsync(released, 10, cancelled);
        Thread.sleep(50);
        released.release();
        assertEquals(0, waiting.get(10, TimeUnit.SECONDS));
        released.grant(10);
        assertEquals(0, take(released, 10, cancelled), "released for good: no more credit, granted or not");

        Credit credit = new Credit(10);
        cancelled.set(true);
        assertEquals(0, take(credit, 5, cancelled), "cancelled: nothing taken though credit is there");
    }

    @Test
    void aStallTimesOut() {
        Credit credit = new Credit(0);
        IpcTimeoutException e = assertThrows(IpcTimeoutException.class,
                () -> credit.take(10, TimeUnit.MILLISECONDS.toNanos(50), body(new AtomicBoolean())));
        assertTrue(e.getMessage().contains("test body"), e.getMessage());
    }
}
