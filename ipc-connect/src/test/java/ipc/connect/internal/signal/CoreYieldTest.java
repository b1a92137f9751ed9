package ipc.connect.internal.signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Yielding the core from platform and virtual threads, and telling which core a thread runs on. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CoreYieldTest {
    @Test
    void linuxVirtualThreadsYieldTheirCarriersCoreAndThreadsKnowTheirCore() throws Exception {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux"), "Linux");
        assertTrue(CoreYield.yieldsCarrier(), "sched_yield bound");
        assertTrue(CoreYield.knowsCores(), "sched_getcpu bound");
        assertTrue(CoreYield.currentCore() >= 0, "a platform thread's core");
        try (ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor()) {
            assertTrue(virtual.submit(CoreYield::currentCore).get(20, TimeUnit.SECONDS) >= 0, "a carrier's core");
        }
    }

    @Test
    void bothKindsOfThreadYieldAndGoOn() throws Exception {
        try (ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
             ExecutorService platform = Executors.newSingleThreadExecutor()) {
            Future<Integer> onVirtual = virtual.submit(() -> yieldTimes(10_000));
            Future<Integer> onPlatform = platform.submit(() -> yieldTimes(10_000));
            assertEquals(10_000, onVirtual.get(20, TimeUnit.SECONDS));
            assertEquals(10_000, onPlatform.get(20, TimeUnit.SECONDS));
        }
    }

    private static int yieldTimes(int times) {
        int done = 0;
        for (int i = 0; i < times; i++) {
            CoreYield.yieldCore();
            done++;
        }
        return done;
    }
}
