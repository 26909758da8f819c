import { SpanKind, type Context, type Span, type Tracer } from "@opentelemetry/api";

/** Messaging semantic-convention attributes, as bus spans carry them. */
export const MessagingAttr = {
  System: "messaging.system",
  /** `send` for a publish, `process` for a delivery's handling. */
  OperationType: "messaging.operation.type",
  OperationName: "messaging.operation.name",
  DestinationName: "messaging.destination.name",
  /** The subject with its ids replaced by placeholders: low cardinality, as the span name uses it. */
  DestinationTemplate: "messaging.destination.template",
  BodySize: "messaging.message.body.size",
} as const;

/** One message as a bus span describes it. */
export interface MessageInfo {
  /** `nats`, or the name of another transport. */
  system: string;
  subject: string;
  /** {@link subject} without its ids. */
  template: string;
  bodySize: number;
}

/**
 * The PRODUCER span of a message sent to the bus (`publish <template>`), child of `parent`; its
 * context is what the message's `traceparent` header names, so the receiver's span nests under it.
 */
export function startPublishSpan(tracer: Tracer, parent: Context, msg: MessageInfo): Span {
  const span = tracer.startSpan(`publish ${msg.template}`, { kind: SpanKind.PRODUCER }, parent);
  if (span.isRecording()) span.setAttributes(attributes(msg, "send", "publish"));
  return span;
}

/** The CONSUMER span of a delivered message's handling (`process <template>`), child of the sender's span. */
export function startProcessSpan(tracer: Tracer, parent: Context, msg: MessageInfo): Span {
  const span = tracer.startSpan(`process ${msg.template}`, { kind: SpanKind.CONSUMER }, parent);
  if (span.isRecording()) span.setAttributes(attributes(msg, "process", "process"));
  return span;
}

function attributes(msg: MessageInfo, type: string, name: string): Record<string, string | number> {
  return {
    [MessagingAttr.System]: msg.system,
    [MessagingAttr.OperationType]: type,
    [MessagingAttr.OperationName]: name,
    [MessagingAttr.DestinationName]: msg.subject,
    [MessagingAttr.DestinationTemplate]: msg.template,
    [MessagingAttr.BodySize]: msg.bodySize,
  };
}
