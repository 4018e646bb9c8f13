// Kept apart from worker-command.ts so `forge --help` does not load the queue client.
export const WORKER_HELP = `  worker --queue redis://host:port --store <dir>
                                run work units from a queue; <dir> is this machine's path of the
                                coordinator's shared .forge folder  (--concurrency N units at once)
`;
