/**
 * @module server/builders/component
 * What a builder hands back: something `serve` starts once everything is wired, and stops on
 * SIGTERM in an order of its choosing (server/builders/lifecycle.ts).
 */
export interface Component {
  start(): void;
  stop(): void;
}
