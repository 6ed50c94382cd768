/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The service's base URL for a deployed build whose API is on another origin (build-time). */
  readonly VITE_AUTH_API_URL?: string;
}
