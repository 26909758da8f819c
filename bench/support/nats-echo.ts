/**
 * A child process for the latency benchmark's floor: answers every request on `subject` with its own
 * payload, over a plain NATS connection. Prints "ready" once subscribed.
 */
import { connect } from "@nats-io/transport-node";

const [url, subject] = process.argv.slice(2) as [string, string];
const nc = await connect({ servers: url });
nc.subscribe(subject, {
  callback: (err, msg) => {
    if (err === null) msg.respond(msg.data);
  },
});
await nc.flush();
process.stdout.write("ready\n");
process.once("SIGTERM", () => void nc.close().then(() => process.exit(0)));
