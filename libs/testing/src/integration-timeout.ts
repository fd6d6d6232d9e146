// Integration specs talk to real servers (consumer group joins, Kafka restarts): give them time.
// Project-level `testTimeout` is not honoured in a multi-project config, so it is set here.
jest.setTimeout(120_000);
