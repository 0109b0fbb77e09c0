export type Clock = () => Date

export const systemClock: Clock = () => new Date()

export function iso(date: Date): string {
  return date.toISOString()
}
