import { ConfigValidationError } from './app-config';
import { loadEnvironment } from './environment';

/*
 * Imported first by main.ts, for its effect: `.env` and the X_FILE variables land in process.env
 * before any other module is loaded, and so before anything else (the tracing SDK, the libraries)
 * reads the environment. A file that cannot be read stops the boot
 * here, with the same one-line message as a bad value.
 */
try {
  loadEnvironment();
} catch (error) {
  if (!(error instanceof ConfigValidationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
