package ipc.connect.internal.memory;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.internal.signal.Signal;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Unmapping while another thread is in a system call on the mapping (a futex wait on one of its words). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MappedFileTest {
    @Test
    void closeWaitsForASystemCallOnTheMapping(@TempDir Path folder) throws Exception {
        MappedFile file = MappedFile.create(folder.resolve("waited"), 4096);
        Signal signal = new Signal(file.segment(), 0);
        int sequence = signal.announce();
        CountDownLatch waiting = new CountDownLatch(1);
        Thread sleeper = Thread.ofPlatform().start(() -> {
            waiting.countDown();
            signal.await(sequence, TimeUnit.MILLISECONDS.toNanos(300), Signal.newScratch()); // ends by its timeout
        });
        assertTrue(waiting.await(10, TimeUnit.SECONDS));
        Thread.sleep(50); // in the wait by now (with the futex: a downcall holding the mapping's session)
        // Before, this threw "Session is acquired by 1 clients", which killed a dispatcher closing a connection
        // while a handler's thread was in a futex wake on that connection's doorbell.
        file.close();
        sleeper.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(sleeper.isAlive());
        assertThrows(IllegalStateException.class, () -> file.segment().get(ValueLayout.JAVA_INT, 0), "unmapped");
        file.close(); // idempotent
    }
}
