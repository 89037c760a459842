// Child of test/ipc.test.ts: answers with one message of argv[2] characters through sendLast.
import { sendLast } from "../../kernel-lib/src/util/ipc";

process.on("message", () => sendLast({ data: "x".repeat(Number(process.argv[2])) }));
