// Loaded before every test file: @peculiar/x509 2.x needs the reflect polyfill before its first import.
import 'reflect-metadata';
