// Stylesheets are bundled by esbuild; to the type checker they are modules with nothing in them.
declare module '*.css';
