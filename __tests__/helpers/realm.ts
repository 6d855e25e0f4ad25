// Jest runs tests in a vm context, where Node 20's Symbol.dispose / Symbol.asyncDispose (registered
// symbols it installs in the main realm only) are missing. Install the same symbols here.
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('nodejs.dispose');
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
