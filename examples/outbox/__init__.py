"""A shop whose shipping runs on workers: durable receivers through the outbox."""
