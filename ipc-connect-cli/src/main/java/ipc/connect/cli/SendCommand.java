package ipc.connect.cli;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcClient;
import ipc.connect.IpcData;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Sends one request and writes the response to standard output. */
@Command(name = "send", mixinStandardHelpOptions = true,
        description = "Send one request (text, a file, or standard input) and print the response.")
final class SendCommand implements Callable<Integer> {
    @Option(names = {"-c", "--channel"}, required = true, description = "Channel name.")
    String channel;

    @ArgGroup(exclusive = true)
    Body body = new Body();

    static final class Body {
        @Option(names = {"-t", "--text"}, description = "Send this text (UTF-8).")
        String text;

        @Option(names = {"-f", "--file"}, description = "Send this file, streamed.")
        Path file;
    }

    @Option(names = "--timeout", defaultValue = "PT10S",
            description = "Longest wait for the response to begin (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        IpcData request;
        if (body.text != null) {
            request = IpcData.of(body.text.getBytes(StandardCharsets.UTF_8));
        } else if (body.file != null) {
            request = IpcData.of(Files.newInputStream(body.file));
        } else {
            request = IpcData.of(System.in);
        }
        try (IpcClient client = new IpcClient(new IpcChannelFactory(), channel);
             InputStream response = client.send(request, timeout)) {
            response.transferTo(System.out);
            System.out.flush();
        }
        return 0;
    }
}
