package ipc.connect.internal.connection;

/** A frame that breaks the protocol: the receiving side closes the connection, naming what it saw. */
final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProtocolException(String message) {
        super(message);
    }
}
