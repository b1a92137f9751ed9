package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link TestServerMain} process for a test class, on channels under a base name no other test uses:
 * {@code @RegisterExtension static final ServerProcess SERVER = new ServerProcess("echo");} then
 * {@code SERVER.channel("bytes")}. Started before the class's tests; after them, stopped, and its files checked gone.
 */
final class ServerProcess implements BeforeAllCallback, AfterAllCallback {
    private final String test;
    private String base;
    private Process process;

    ServerProcess(String test) {
        this.test = test;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        base = TestProcesses.uniqueChannel(test);
        process = TestProcesses.startServer(base);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        TestProcesses.stopAndAssertClean(process);
        assertEquals(List.of(), ChannelFiles.of(new IpcChannelFactory(), base), "files left behind");
    }

    /** The channel {@code <base>.<behaviour>} (see {@link TestServerMain}). */
    String channel(String behaviour) {
        return base + "." + behaviour;
    }
}
