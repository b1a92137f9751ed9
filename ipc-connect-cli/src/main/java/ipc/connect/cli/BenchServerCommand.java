package ipc.connect.cli;

import ipc.connect.bench.BenchServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The server process of {@code bench}; stops when its standard input closes. */
@Command(name = "bench-server", hidden = true)
final class BenchServerCommand implements Callable<Integer> {
    @Option(names = "--channel", required = true)
    String channel;

    @Option(names = "--socket", required = true)
    Path socket;

    @Override
    public Integer call() throws Exception {
        BenchServer server = BenchServer.start(channel, socket);
        try {
            System.out.println("READY");
            System.out.flush();
            ServeCommand.awaitStop(true);
        } finally {
            server.close();
        }
        return 0;
    }
}
