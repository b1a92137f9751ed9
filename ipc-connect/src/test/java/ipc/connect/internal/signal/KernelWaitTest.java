package ipc.connect.internal.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The platform's kernel wait in one process: selection, the value check, the timeout and the wake. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KernelWaitTest {
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
            .startsWith("linux");

    @Test
    void linuxSleepsInTheFutexAndFindsNoMacOsCalls() {
        assumeTrue(LINUX, "the Linux selection");
        if ("fallback".equals(System.getProperty("ipc.connect.signal"))) {
            assertNull(KernelWait.forThisPlatform(), "forced off");
            return;
        }
        assertInstanceOf(Futex.class, KernelWait.forThisPlatform());
        assertNull(DarwinWait.create(), "no os_sync_wait_on_address nor __ulock_wait to bind here");
    }

    @Test
    void aWaitReturnsAtOnceOnAnotherValueAtItsTimeoutAndOnAWake() throws Exception {
        KernelWait kernel = KernelWait.forThisPlatform();
        assumeTrue(kernel != null, "a kernel wait on this platform");
        MemorySegment word = Arena.ofAuto().allocate(4, 4);
        MemorySegment scratch = kernel.newScratch();
        word.set(ValueLayout.JAVA_INT, 0, 7);

        long start = System.nanoTime();
        kernel.await(word, 6, TimeUnit.SECONDS.toNanos(10), scratch);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "another value: no sleep");

        start = System.nanoTime();
        kernel.await(word, 7, TimeUnit.MILLISECONDS.toNanos(50), scratch);
        long slept = System.nanoTime() - start;
        assertTrue(slept >= TimeUnit.MILLISECONDS.toNanos(40) && slept < TimeUnit.SECONDS.toNanos(5),
                "slept " + slept / 1000 + " µs for a 50 ms timeout");

        CountDownLatch asleep = new CountDownLatch(1);
        long[] woken = new long[1];
        Thread sleeper = Thread.ofPlatform().start(() -> {
            MemorySegment own = kernel.newScratch();
            asleep.countDown();
            long from = System.nanoTime();
            while (word.get(ValueLayout.JAVA_INT, 0) == 7) {
                kernel.await(word, 7, TimeUnit.SECONDS.toNanos(20), own);
            }
            woken[0] = System.nanoTime() - from;
        });
        assertTrue(asleep.await(10, TimeUnit.SECONDS));
        Thread.sleep(50);
        word.set(ValueLayout.JAVA_INT, 0, 8);
        kernel.wakeAll(word);
        sleeper.join(10_000);
        assertTrue(!sleeper.isAlive() && woken[0] < TimeUnit.SECONDS.toNanos(10),
                "woken after " + woken[0] / 1000 + " µs, not at the 20 s timeout");
        assertNotNull(kernel.name());
        assertEquals(kernel.name(), Signal.waitName());
    }
}
