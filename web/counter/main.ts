import { startCounter } from './app.js';

void startCounter(document.getElementById('app')!);
