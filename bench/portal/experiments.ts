// Experiments the benchmark can switch on to show what a change outside the benchmark would
// give, without editing the application: none of them is the shipped configuration.

/** What caching formatters in src/i18n would give: `new Intl.DateTimeFormat(same args)` returns one shared object. */
export function cacheIntlFormatters() {
  const formatters = new Map<string, Intl.DateTimeFormat>()
  Intl.DateTimeFormat = new Proxy(Intl.DateTimeFormat, {
    construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      const key = JSON.stringify(args)
      let formatter = formatters.get(key)
      if (!formatter) {
        formatter = new target(...args)
        formatters.set(key, formatter)
      }
      return formatter
    }
  })
}

